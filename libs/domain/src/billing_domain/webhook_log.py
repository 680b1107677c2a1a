"""The webhook event log: the life of one received Stripe event.

```
            received
               |
               v
  +------> PENDING --processed/ignored--> PROCESSED
  |            |  +--unknown tenant-----> PARKED ---+
  |      failure (retries left)                     |
  |            v                                    |
  |        RETRYING --processed/ignored/parked--> (as above)
  |            |  ^
  |            |  | failure on the fast lane, or a transient one before the
  |            |  | horizon: retry_count+1, wait backoff(retry_count) (capped)
  |            |--+
  |            | a permanent failure after the fast lane,
  |            | a transient one at the horizon
  |            v
  +--replay-- FAILED    (PARKED is replayable too)
```

- Two lanes. The **fast lane**: ``RetryPolicy.max_attempts`` retries after the
  first try (default 3) wait 2 s, 4 s, 8 s, whatever the failure. After it, a
  **permanent** failure (the work itself is wrong: an untranslatable payload, an
  unknown price, a bug) is final (``FAILED``); a **transient** one (Stripe, the
  database or the broker unavailable or busy) stays ``RETRYING`` on the **slow
  lane**: the backoff keeps doubling (16 s, 32 s, ...) up to
  ``slow_max_seconds`` (3600) until ``horizon`` (72 h, Stripe's own) has passed
  since the event was received; the last attempt is at the horizon, and a
  transient failure there is final too. The fast lane's "failed after 3" holds
  for permanent failures exactly as before.
- The horizon counts from receipt, not from a replay: an event replayed after it
  gets the fast lane only, then is ``FAILED`` again if Stripe is still down.
- ``put_back``: a worker leased the event but did not attempt it; due at once,
  nothing counted (the lease itself lives in the adapter, not in the record).
- The record keeps the class and text of the last failure (``last_error_class``,
  ``last_error``); a success keeps them as a trace of what happened before.
- ``PARKED`` is its own terminal status: the event is about a tenant we do not
  know. It is neither retried nor an error, and an operator may replay it.
- An event type we do not handle is ``PROCESSED`` with the note ``"ignored"``; one we
  must not act on (another mode's, a foreign Connect account's) with
  ``"ignored: <reason>"``.
- ``next_attempt_at`` is set exactly while the event waits to be processed
  (``PENDING``, ``RETRYING``); terminal states are only left through ``replay``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from billing_domain.errors import Conflict, RuleViolated
from billing_domain.timestamps import ensure_utc

NOTE_IGNORED = "ignored"
NOTE_PARKED = "parked"
MAX_ERROR_LENGTH = 2000


class FailureClass(StrEnum):
    """What a failed attempt says about the work (``billing_platform.failures``)."""

    TRANSIENT = "transient"
    """An outage or contention: the same work succeeds later."""
    PERMANENT = "permanent"
    """The work itself cannot succeed: retrying changes nothing."""


class WebhookEventStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    PROCESSED = "processed"
    FAILED = "failed"
    PARKED = "parked"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_waiting(self) -> bool:
        """Waiting for a worker to (re)process it."""
        return not self.is_terminal

    @property
    def is_replayable(self) -> bool:
        return self in _REPLAYABLE


_TERMINAL = frozenset(
    {WebhookEventStatus.PROCESSED, WebhookEventStatus.FAILED, WebhookEventStatus.PARKED}
)
_REPLAYABLE = frozenset({WebhookEventStatus.FAILED, WebhookEventStatus.PARKED})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 3
    """Retries after the first try; the failure after the last retry is final."""
    base_seconds: float = 2
    slow_max_seconds: float = 3600
    """The slow lane's longest wait between two attempts."""
    horizon: timedelta = timedelta(hours=72)
    """Transient failures are retried until this long after the event was received."""

    def __post_init__(self) -> None:
        if self.max_attempts < 0:
            raise RuleViolated("max_attempts must be >= 0", code="bad_retry_policy")
        if self.base_seconds <= 0:
            raise RuleViolated("base_seconds must be > 0", code="bad_retry_policy")
        if self.slow_max_seconds < self.base_seconds:
            raise RuleViolated("slow_max_seconds must be >= base_seconds", code="bad_retry_policy")
        if self.horizon < timedelta(0):
            raise RuleViolated("horizon must be >= 0", code="bad_retry_policy")

    def backoff(self, attempt: int) -> timedelta:
        """Wait before retry number ``attempt`` (1-based): base * 2^(attempt-1), so
        2, 4, 8 s on the fast lane, then doubling on up to ``slow_max_seconds``."""
        if attempt < 1:
            raise RuleViolated("retry attempts count from 1", code="bad_retry_attempt")
        doubling = self.base_seconds * 2 ** min(attempt - 1, 62)
        return timedelta(seconds=min(doubling, max(self.slow_max_seconds, self.base_seconds)))

    def gives_up_at(self, received_at: datetime) -> datetime:
        """When the slow lane ends for an event received at ``received_at``."""
        return received_at + self.horizon


@dataclass(kw_only=True)
class WebhookEventRecord:
    event_id: str
    event_type: str
    received_at: datetime
    status: WebhookEventStatus = WebhookEventStatus.PENDING
    retry_count: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    last_error_class: FailureClass | None = None
    note: str | None = None
    finished_at: datetime | None = None
    """When it reached its current terminal status; ``None`` while waiting."""

    @classmethod
    def received(cls, *, event_id: str, event_type: str, now: datetime) -> WebhookEventRecord:
        """A newly stored event: pending and due at once."""
        now = ensure_utc(now, name="now")
        return cls(event_id=event_id, event_type=event_type, received_at=now, next_attempt_at=now)

    def is_due(self, now: datetime) -> bool:
        return self.next_attempt_at is not None and self.next_attempt_at <= now

    def mark_processed(self, now: datetime, *, note: str | None = None) -> None:
        self._require_waiting("mark processed")
        self._finish(WebhookEventStatus.PROCESSED, now, note=note)

    def mark_ignored(self, now: datetime, *, reason: str | None = None) -> None:
        """Done, nothing applied: a type we do not handle, or (with a ``reason``) an
        event we must not act on (another mode's, another account's)."""
        self._require_waiting("ignore")
        note = NOTE_IGNORED if reason is None else f"{NOTE_IGNORED}: {reason}"
        self._finish(WebhookEventStatus.PROCESSED, now, note=note)

    def mark_parked(self, note: str, now: datetime) -> None:
        """About a tenant we do not know: set aside for an operator, never retried."""
        self._require_waiting("park")
        self._finish(WebhookEventStatus.PARKED, now, note=note or NOTE_PARKED)

    def mark_failed_attempt(
        self,
        error: str,
        now: datetime,
        policy: RetryPolicy | None = None,
        *,
        failure: FailureClass = FailureClass.PERMANENT,
    ) -> None:
        """Processing failed: retry later with backoff, or give up (see the module doc:
        the fast lane for every failure, then the slow lane for transient ones)."""
        self._require_waiting("record a failure for")
        policy = policy or RetryPolicy()
        now = ensure_utc(now, name="now")
        self.last_error = error[:MAX_ERROR_LENGTH]
        self.last_error_class = failure
        retry_at: datetime | None = None
        if self.retry_count < policy.max_attempts:
            retry_at = now + policy.backoff(self.retry_count + 1)
        elif failure is FailureClass.TRANSIENT:
            gives_up_at = policy.gives_up_at(self.received_at)
            if now < gives_up_at:
                retry_at = min(now + policy.backoff(self.retry_count + 1), gives_up_at)
        if retry_at is None:
            self._finish(WebhookEventStatus.FAILED, now, note=None)
            return
        self.retry_count += 1
        self.status = WebhookEventStatus.RETRYING
        self.next_attempt_at = retry_at

    def put_back(self, now: datetime) -> None:
        """A worker took the event but did not attempt it (it ran short of time): due
        again at once, nothing counted."""
        self._require_waiting("put back")
        self.next_attempt_at = ensure_utc(now, name="now")

    def replay(self, now: datetime) -> None:
        """An operator asks to process a failed or parked event again, from scratch."""
        if not self.status.is_replayable:
            raise Conflict(
                f"only failed or parked events can be replayed, this one is {self.status.value}",
                code="not_replayable",
            )
        now = ensure_utc(now, name="now")
        self.status = WebhookEventStatus.PENDING
        self.retry_count = 0
        self.next_attempt_at = now
        self.note = None
        self.finished_at = None

    def _require_waiting(self, verb: str) -> None:
        if self.status.is_terminal:
            raise Conflict(
                f"cannot {verb} event {self.event_id}: it is already {self.status.value}",
                code="illegal_transition",
            )

    def _finish(self, status: WebhookEventStatus, now: datetime, *, note: str | None) -> None:
        self.status = status
        self.note = note
        self.next_attempt_at = None
        self.finished_at = ensure_utc(now, name="now")
