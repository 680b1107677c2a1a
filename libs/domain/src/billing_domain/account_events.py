"""Domain events the ``BillingAccount`` aggregate records in ``account.events``.

They stay inside one transaction: a use case reads them after changing the
aggregate (for logs, metrics, or to write integration events to the outbox).
They share names with the integration events of ``billing_domain.events`` on
purpose; import the module, not the names, where both are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.money import Money
from billing_domain.plans import BillingInterval, PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus


@dataclass(frozen=True, kw_only=True)
class AccountEvent:
    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class SubscriptionActivated(AccountEvent):
    """The tenant gained paid access (new subscription, or back from unpaid/incomplete)."""

    subscription_id: str
    plan: PlanType
    status: SubscriptionStatus


@dataclass(frozen=True, kw_only=True)
class SubscriptionPlanChanged(AccountEvent):
    """A plan change took effect (``NOW``) or was scheduled (``PERIOD_END``)."""

    subscription_id: str
    from_plan: PlanType
    to_plan: PlanType
    effective: PlanChangeEffective
    effective_at: datetime | None
    from_interval: BillingInterval | None = None
    to_interval: BillingInterval | None = None


@dataclass(frozen=True, kw_only=True)
class EntitlementsChanged(AccountEvent):
    """The plan whose features the tenant gets changed (``plan_catalogue.granted_plan``)."""

    subscription_id: str | None
    from_plan: PlanType
    to_plan: PlanType


@dataclass(frozen=True, kw_only=True)
class PendingPlanChangeDropped(AccountEvent):
    """A scheduled downgrade was withdrawn before it took effect."""

    subscription_id: str
    plan: PlanType


@dataclass(frozen=True, kw_only=True)
class SubscriptionCancelScheduled(AccountEvent):
    subscription_id: str
    cancel_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class SubscriptionResumed(AccountEvent):
    subscription_id: str


@dataclass(frozen=True, kw_only=True)
class SubscriptionCanceled(AccountEvent):
    """The subscription ended; the tenant is back on the free plan."""

    subscription_id: str
    previous_plan: PlanType
    status: SubscriptionStatus


@dataclass(frozen=True, kw_only=True)
class SubscriptionUpdated(AccountEvent):
    """Status, period or trial changed in a way no more specific event describes."""

    subscription_id: str
    status: SubscriptionStatus
    previous_status: SubscriptionStatus
    current_period_end: datetime | None
    trial_end: datetime | None


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(AccountEvent):
    invoice_id: str | None
    amount_due: Money
    hosted_invoice_url: str | None
    next_payment_attempt: datetime | None


@dataclass(frozen=True, kw_only=True)
class InvoicePaid(AccountEvent):
    invoice_id: str
    amount_paid: Money
    cleared_payment_failure: bool
    failed_since: datetime | None = None
    """When the failure this payment cleared began (Stripe's time), if it cleared one."""
    paid_at: datetime | None = None
    """Stripe's time of the payment, when the event carried it."""

    @property
    def failure_resolved_after(self) -> float | None:
        """Seconds from the failure to this payment, when both times are known."""
        if self.failed_since is None or self.paid_at is None:
            return None
        return max((self.paid_at - self.failed_since).total_seconds(), 0.0)


@dataclass(frozen=True, kw_only=True)
class InvoiceClosedUnpaid(AccountEvent):
    """An invoice was voided or written off (``uncollectible``): no payment will come."""

    invoice_id: str
    uncollectible: bool
    cleared_payment_failure: bool
