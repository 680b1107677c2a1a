"""Trials (architecture section 8.3): what a trial without a card does at its end, how
many days are left, converting now, and an operator's extension with its cap.

Pure rules; the aggregate (``BillingAccount``) and the subscriptions use cases apply them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from billing_domain.errors import Conflict, RuleViolated
from billing_domain.status import SubscriptionStatus
from billing_domain.timestamps import ensure_utc

DAY = timedelta(days=1)
MIN_EXTENSION_DAYS = 1
MAX_EXTENSION_DAYS_PER_REQUEST = 30
DEFAULT_MAX_EXTENSION_DAYS = 30
"""``TRIAL_MAX_EXTENSION_DAYS``: a tenant's trial is extended by at most this much in all."""
MAX_REASON_LENGTH = 500


class TrialEndWithoutCard(StrEnum):
    """``TRIAL_END_WITHOUT_CARD``: Stripe's ``trial_settings.end_behavior.
    missing_payment_method`` for trials started without a card."""

    PAUSE = "pause"
    CANCEL = "cancel"


def stripe_now(now: datetime, seen: Iterable[datetime]) -> datetime:
    """The subscription's clock as far as we can tell without asking Stripe: ours, or the
    newest Stripe time an event carried when that is later (a test clock runs ahead)."""
    latest = max((ensure_utc(t, name="seen") for t in seen), default=None)
    now = ensure_utc(now, name="now")
    return now if latest is None or latest < now else latest


def days_left(
    *, status: SubscriptionStatus, trial_end: datetime | None, now: datetime
) -> int | None:
    """Whole days until the trial ends, rounded up (ending in 2 h: 1); ``None`` when the
    subscription is not trialing (``trial_end`` stays set after a trial ended)."""
    if status is not SubscriptionStatus.TRIALING or trial_end is None:
        return None
    remaining = (ensure_utc(trial_end, name="trial_end") - ensure_utc(now, name="now")) / DAY
    return max(0, math.ceil(remaining))


def require_trialing(status: SubscriptionStatus) -> None:
    if status is not SubscriptionStatus.TRIALING:
        raise Conflict(
            f"the subscription is not in a trial (status {status.value})", code="not_trialing"
        )


@dataclass(frozen=True, kw_only=True)
class TrialExtension:
    """An operator's decision to move a tenant's trial end later (``proration_behavior=none``)."""

    extend_days: int
    previous_trial_end: datetime
    new_trial_end: datetime
    reason: str


def check_extension_request(extend_days: int, reason: str) -> None:
    """The body's own limits (422): 1..30 days, a reason of at most 500 characters."""
    if not MIN_EXTENSION_DAYS <= extend_days <= MAX_EXTENSION_DAYS_PER_REQUEST:
        raise RuleViolated(
            f"extend_days must be {MIN_EXTENSION_DAYS}..{MAX_EXTENSION_DAYS_PER_REQUEST}",
            code="invalid_request",
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise RuleViolated(
            f"reason is longer than {MAX_REASON_LENGTH} characters", code="invalid_request"
        )


def decide_extension(
    *,
    status: SubscriptionStatus,
    trial_end: datetime | None,
    extend_days: int,
    reason: str,
    already_extended_days: int,
    max_extension_days: int,
) -> TrialExtension:
    """Move the trial end ``extend_days`` later; 409 when the subscription is not
    trialing or the tenant's extensions would add up to more than the cap."""
    check_extension_request(extend_days, reason)
    require_trialing(status)
    if trial_end is None:
        raise Conflict("the trial has no end to move", code="not_trialing")
    if already_extended_days + extend_days > max_extension_days:
        raise Conflict(
            f"this tenant's trial was extended by {already_extended_days} days already; "
            f"at most {max_extension_days} days in all",
            code="trial_extension_cap",
        )
    previous = ensure_utc(trial_end, name="trial_end")
    return TrialExtension(
        extend_days=extend_days,
        previous_trial_end=previous,
        new_trial_end=previous + extend_days * DAY,
        reason=reason,
    )
