"""The Stripe SDK, configured once, and the translation of its errors.

Every service's Stripe adapter builds on ``StripeCaller``:
- one ``stripe.StripeClient`` per process (async HTTP through httpx),
  pointed at ``STRIPE_API_BASE`` when set (the sandbox in dev and tests),
  pinned to ``STRIPE_API_VERSION`` (the SDK's own version: its ``stripe.params``
  TypedDicts, which type every adapter's requests, describe that version);
- a client-side rate limit shared by every call of the process (aiolimiter:
  20 requests/s for test keys, 90 for live keys, below Stripe's 25/100);
- 429 and connection errors retried with exponential backoff (tenacity);
- SDK exceptions turned into domain errors, so use cases never see them:
  ``resource_missing`` -> NotFound, card errors -> RuleViolated,
  idempotency clashes -> Conflict, anything transient -> GatewayUnavailable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import stripe
import structlog
from aiolimiter import AsyncLimiter
from billing_domain.errors import Conflict, GatewayUnavailable, NotFound, RuleViolated
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from billing_platform.settings import BillingSettings

log = structlog.get_logger("billing_platform.stripe")

T = TypeVar("T")
# The one Stripe API version we speak: requests send it as ``Stripe-Version``, the
# production webhook endpoint is created with it (deploy/README.md), the sandbox serves
# it. It is the version of the pinned SDK (``stripe==`` in libs/platform/pyproject.toml),
# whose params types describe it; tools/cli/tests/test_stripe_version.py keeps them equal.
STRIPE_API_VERSION = "2026-10-28.endive"
TEST_MODE_RATE = 20.0
LIVE_MODE_RATE = 90.0


def _transient(exc: BaseException) -> bool:
    """Worth another try: rate limited, the network, or Stripe's own 5xx."""
    if isinstance(exc, (stripe.RateLimitError, stripe.APIConnectionError)):
        return True
    return isinstance(exc, stripe.APIError) and (exc.http_status or 0) >= 500


def build_stripe_client(
    settings: BillingSettings,
    *,
    timeout: float = 20.0,
    http_client: stripe.HTTPClient | None = None,
) -> stripe.StripeClient:
    """The SDK client: pinned API version, ``STRIPE_API_BASE``, our retries only.

    ``http_client`` replaces the SDK's httpx client (the parameter audit records
    requests through one); by default an ``HTTPXClient`` with ``timeout``.
    """
    settings.require("stripe_api_key")
    assert settings.stripe_api_key is not None
    base = settings.stripe_api_base
    return stripe.StripeClient(
        settings.stripe_api_key,
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": base, "files": base, "connect": base} if base else None,
        http_client=http_client or stripe.HTTPXClient(timeout=timeout),
        max_network_retries=0,  # retries are ours, below, with the rate limiter in the loop
    )


def default_rate(api_key: str | None) -> float:
    return LIVE_MODE_RATE if (api_key or "").startswith(("sk_live", "rk_live")) else TEST_MODE_RATE


class StripeCaller:
    """Runs SDK coroutines under the shared rate limit, with retries and error translation."""

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        rate_per_second: float = TEST_MODE_RATE,
        attempts: int = 4,
        max_wait: float = 4.0,
    ) -> None:
        self.client = client
        self._limiter = AsyncLimiter(max(rate_per_second, 1.0), time_period=1.0)
        self._attempts = attempts
        self._max_wait = max_wait

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> StripeCaller:
        return cls(
            build_stripe_client(settings, timeout=settings.stripe_timeout_seconds),
            rate_per_second=default_rate(settings.stripe_api_key),
        )

    async def __call__(self, operation: str, call: Callable[[], Awaitable[T]]) -> T:
        """``await caller("customers.create", lambda: client.v1.customers.create_async(...))``."""
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_transient),
                stop=stop_after_attempt(self._attempts),
                wait=wait_exponential_jitter(multiplier=0.25, max=self._max_wait, jitter=0.25),
                reraise=True,
            ):
                with attempt:
                    async with self._limiter:
                        return await call()
        except stripe.StripeError as exc:
            raise translate_stripe_error(operation, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover


def translate_stripe_error(operation: str, exc: stripe.StripeError) -> Exception:
    code = getattr(exc, "code", None) or ""
    message = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    bound = log.bind(operation=operation, stripe_code=code, http_status=exc.http_status)
    if isinstance(exc, stripe.InvalidRequestError) and code == "resource_missing":
        return NotFound(f"Stripe has no such object ({operation})", code="stripe_not_found")
    if isinstance(exc, stripe.CardError):
        return RuleViolated(message, code=code or "card_error")
    if isinstance(exc, stripe.IdempotencyError):
        return Conflict(message, code="idempotency_conflict")
    if isinstance(exc, stripe.InvalidRequestError):
        bound.error("stripe.request.invalid", error=message)
        return RuleViolated(f"Stripe refused {operation}: {message}", code="stripe_invalid_request")
    bound.warning("stripe.unavailable", error=type(exc).__name__)
    return GatewayUnavailable(f"Stripe is unavailable ({operation})", code="stripe_unavailable")


def as_dict(obj: Any) -> dict[str, Any]:
    """A plain dict of an SDK object (adapters hand only plain data to use cases)."""
    if isinstance(obj, dict) and not isinstance(obj, stripe.StripeObject):
        return obj
    result: dict[str, Any] = obj.to_dict(recursive=True)
    return result
