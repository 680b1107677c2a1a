"""Per-tenant limit on checkout and portal session creation: a sliding window, in process.

Each creation costs Stripe calls (customer, session, portal), and Stripe's rate
limit is shared by the whole platform (25 requests/s in test mode); a single
tenant's script or a stuck button must not spend it. The limit is 10 sessions a
minute per tenant by default; above it the API answers 429 with ``Retry-After``.

Why in process rather than in Postgres: the limit is a guard against bursts,
not a quota anyone is billed by, so it need not be exact across replicas. With
N replicas behind the gateway a tenant gets at most N times the limit, still
bounded and still far below Stripe's limit (which ``StripeCaller`` enforces
separately for the process). In exchange the check costs no database round trip
and no write on the hot path, keeps working while Postgres is slow, and cannot
leave rows to clean up. A shared budget (a Postgres table or Redis) would be the
change if the limit ever became a commercial promise.

The window slides: a slot frees exactly ``window_s`` after it was taken, so
there is no burst of 2x the limit at a fixed boundary. Memory is bounded:
once ``max_keys`` tenants are tracked, those idle for a whole window are dropped.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from billing_domain.errors import DomainError


class RateLimited(DomainError):  # noqa: N818 - named like the other domain errors
    """Too many requests for this key; retry after ``retry_after`` seconds (HTTP 429)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SlidingWindowRateLimiter:
    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self._limit = limit
        self._window = window_s
        self._now = monotonic
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def acquire(self, key: str) -> float:
        """Take a slot: 0 when allowed, else the seconds until the oldest slot frees."""
        now = self._now()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._forget_idle(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        if len(hits) >= self._limit:
            return hits[0] + self._window - now
        hits.append(now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        cutoff = now - self._window
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= cutoff]:
            del self._hits[key]
