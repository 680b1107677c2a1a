"""The state of a Stripe subscription, in domain terms (no SDK objects)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from billing_domain.plans import BillingInterval, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.timestamps import ensure_utc


@dataclass(frozen=True, kw_only=True)
class PendingPlanChange:
    """A change scheduled for the end of the period (a subscription schedule): a lower
    plan, or the same plan at another interval (year -> month at renewal)."""

    plan: PlanType
    effective_at: datetime
    interval: BillingInterval = BillingInterval.MONTH

    def __post_init__(self) -> None:
        object.__setattr__(self, "effective_at", ensure_utc(self.effective_at, name="effective_at"))


@dataclass(frozen=True, kw_only=True)
class SubscriptionSnapshot:
    """What a Stripe event (or a fresh read) says a subscription looks like now."""

    subscription_id: str
    customer_id: str
    plan: PlanType
    status: SubscriptionStatus
    cancel_at_period_end: bool = False
    current_period_end: datetime | None = None
    trial_end: datetime | None = None
    pending_plan: PendingPlanChange | None = None
    has_payment_method: bool | None = None
    """Whether Stripe can charge the subscription (its or its customer's default payment
    method); ``None`` when the source does not say (the projection keeps what it knew)."""

    def agrees_with(self, other: SubscriptionSnapshot | None) -> bool:
        """The same state, where a ``has_payment_method`` one side does not know is no
        difference."""
        if other is None:
            return False
        if None in (self.has_payment_method, other.has_payment_method):
            return replace(self, has_payment_method=None) == replace(other, has_payment_method=None)
        return self == other

    interval: BillingInterval = BillingInterval.MONTH
    """The billing interval of the subscription's price (month or year)."""

    def __post_init__(self) -> None:
        for name in ("current_period_end", "trial_end"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, ensure_utc(value, name=name))
