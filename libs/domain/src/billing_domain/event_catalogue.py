"""The integration events of the contract (docs/architecture.md section 6).

Conventions for ``data``: Stripe ids are ``stripe_<object>_id``; money is an
integer of minor units plus a lower-case ISO currency; ``stripe_created`` is
the ``created`` time of the Stripe event the message derives from (with
``causation_id`` = that Stripe event's id) so consumers can apply the
ordering guard (``applied_mark()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.customer_events import CustomerUpdated
from billing_domain.envelope import IntegrationEvent
from billing_domain.money import Money
from billing_domain.payment_failure import AttemptOutcome, PaymentAttempt, PaymentFailure
from billing_domain.plans import BillingInterval, PlanChangeEffective, PlanType
from billing_domain.portal_events import PORTAL_EVENTS
from billing_domain.status import SubscriptionStatus
from billing_domain.stripe_derived import StripeDerivedEvent as StripeDerivedEvent
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot
from billing_domain.trial_events import TRIAL_EVENTS

# -- checkout -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CheckoutCompleted(StripeDerivedEvent):
    """A checkout session completed and is paid (or needs no payment): provision."""

    type = "checkout.completed"
    checkout_session_id: str
    stripe_customer_id: str
    stripe_subscription_id: str | None
    plan: PlanType
    trial: bool
    payment_status: str
    amount: int
    currency: str
    interval: BillingInterval = BillingInterval.MONTH
    """The billing interval bought (absent from messages before yearly prices: a month)."""


@dataclass(frozen=True, kw_only=True)
class CheckoutSessionExpired(StripeDerivedEvent):
    type = "checkout.session_expired"
    checkout_session_id: str
    plan: PlanType | None = None


@dataclass(frozen=True, kw_only=True)
class CheckoutAsyncPaymentFailed(StripeDerivedEvent):
    """A delayed payment method (bank debit ...) failed after checkout completed."""

    type = "checkout.async_payment_failed"
    checkout_session_id: str
    stripe_customer_id: str | None = None
    plan: PlanType | None = None


@dataclass(frozen=True, kw_only=True)
class CheckoutSessionCreated(IntegrationEvent):
    """The checkout service opened a Stripe Checkout session for a tenant (source checkout)."""

    type = "checkout.session_created"
    checkout_session_id: str
    stripe_customer_id: str
    plan: PlanType
    trial: bool
    interval: BillingInterval = BillingInterval.MONTH


@dataclass(frozen=True, kw_only=True)
class CustomerCreated(IntegrationEvent):
    """The tenant's one Stripe customer exists (source checkout)."""

    type = "customer.created"
    stripe_customer_id: str


# -- subscription ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SubscriptionEvent(StripeDerivedEvent):
    """Common data of ``subscription.*``: the subscription as it now stands."""

    stripe_subscription_id: str
    stripe_customer_id: str
    plan: PlanType
    status: SubscriptionStatus
    cancel_at_period_end: bool = False
    current_period_end: datetime | None = None
    trial_end: datetime | None = None
    pending_plan: PlanType | None = None
    pending_plan_effective_at: datetime | None = None
    has_payment_method: bool | None = None
    amount: int | None = None
    """What one billing interval of the subscription costs (price x quantity, minor units),
    when the publisher read it from Stripe (webhooks does); ``None`` otherwise."""
    currency: str | None = None
    interval: BillingInterval = BillingInterval.MONTH
    """The billing interval of the subscription's price; messages from before yearly
    prices lack it and decode as a month."""
    pending_interval: BillingInterval | None = None
    """The interval of the pending change's price (with ``pending_plan``)."""

    def snapshot(self) -> SubscriptionSnapshot:
        pending = None
        if self.pending_plan is not None and self.pending_plan_effective_at is not None:
            pending = PendingPlanChange(
                plan=self.pending_plan,
                effective_at=self.pending_plan_effective_at,
                interval=self.pending_interval or BillingInterval.MONTH,
            )
        return SubscriptionSnapshot(
            subscription_id=self.stripe_subscription_id,
            customer_id=self.stripe_customer_id,
            plan=self.plan,
            status=self.status,
            cancel_at_period_end=self.cancel_at_period_end,
            current_period_end=self.current_period_end,
            trial_end=self.trial_end,
            pending_plan=pending,
            has_payment_method=self.has_payment_method,
            interval=self.interval,
        )


def snapshot_data(snapshot: SubscriptionSnapshot) -> dict[str, object]:
    """The ``SubscriptionEvent`` fields for a snapshot, to pass to ``new_event``."""
    pending = snapshot.pending_plan
    return {
        "stripe_subscription_id": snapshot.subscription_id,
        "stripe_customer_id": snapshot.customer_id,
        "plan": snapshot.plan,
        "status": snapshot.status,
        "cancel_at_period_end": snapshot.cancel_at_period_end,
        "current_period_end": snapshot.current_period_end,
        "trial_end": snapshot.trial_end,
        "pending_plan": None if pending is None else pending.plan,
        "pending_plan_effective_at": None if pending is None else pending.effective_at,
        "has_payment_method": snapshot.has_payment_method,
        "interval": snapshot.interval,
        "pending_interval": None if pending is None else pending.interval,
    }


@dataclass(frozen=True, kw_only=True)
class SubscriptionActivated(SubscriptionEvent):
    type = "subscription.activated"


@dataclass(frozen=True, kw_only=True)
class SubscriptionUpdated(SubscriptionEvent):
    type = "subscription.updated"


@dataclass(frozen=True, kw_only=True)
class SubscriptionCancelScheduled(SubscriptionEvent):
    """Cancels at ``current_period_end``."""

    type = "subscription.cancel_scheduled"


@dataclass(frozen=True, kw_only=True)
class SubscriptionResumed(SubscriptionEvent):
    type = "subscription.resumed"


@dataclass(frozen=True, kw_only=True)
class SubscriptionPlanChanged(SubscriptionEvent):
    """Upgrade taking effect now, or downgrade scheduled for ``effective_at``; a change of
    interval on the same plan (month -> year) is one too, with ``from_plan == to_plan``."""

    type = "subscription.plan_changed"
    from_plan: PlanType
    to_plan: PlanType
    effective: PlanChangeEffective
    effective_at: datetime | None = None
    from_interval: BillingInterval | None = None
    to_interval: BillingInterval | None = None


@dataclass(frozen=True, kw_only=True)
class SubscriptionCanceled(SubscriptionEvent):
    """The subscription ended; the tenant is back on the free plan."""

    type = "subscription.canceled"
    ended_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class SubscriptionTrialWillEnd(SubscriptionEvent):
    """Sent by Stripe three days before ``trial_end``."""

    type = "subscription.trial_will_end"


# -- invoice --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InvoiceEvent(StripeDerivedEvent):
    stripe_invoice_id: str
    stripe_customer_id: str
    stripe_subscription_id: str | None = None
    currency: str
    hosted_invoice_url: str | None = None
    # the invoice as a document (optional: events stored before they were added lack them)
    number: str | None = None
    status: str | None = None
    total: int | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    invoice_created: datetime | None = None
    invoice_pdf: str | None = None
    stripe_payment_method_id: str | None = None
    """The payment method charged (or last tried) for this invoice, when Stripe says."""


@dataclass(frozen=True, kw_only=True)
class InvoicePaid(InvoiceEvent):
    type = "invoice.paid"
    amount_paid: int

    @property
    def money_paid(self) -> Money:
        return Money(amount=self.amount_paid, currency=self.currency)


@dataclass(frozen=True, kw_only=True)
class InvoicePaymentFailed(InvoiceEvent):
    type = "invoice.payment_failed"
    amount_due: int
    next_payment_attempt: datetime | None = None
    attempt_count: int = 1
    # the attempt that failed (optional: events stored before they were added lack them)
    decline_code: str | None = None
    """Stripe's ``decline_code`` of the declined card, else its error ``code``."""
    card_brand: str | None = None
    card_last4: str | None = None
    action_required: bool = False
    """The attempt waits for the customer (3-D Secure) rather than failed outright."""

    def attempt(self) -> PaymentAttempt:
        return PaymentAttempt(
            number=self.attempt_count,
            at=self.stripe_created,
            outcome=AttemptOutcome.ACTION_REQUIRED
            if self.action_required
            else AttemptOutcome.DECLINED,
            decline_code=self.decline_code,
            card_brand=self.card_brand,
            card_last4=self.card_last4,
        )

    def payment_failure(self) -> PaymentFailure:
        return PaymentFailure(
            amount_due=Money(amount=self.amount_due, currency=self.currency),
            hosted_invoice_url=self.hosted_invoice_url,
            next_payment_attempt=self.next_payment_attempt,
            invoice_id=self.stripe_invoice_id,
            attempt_count=self.attempt_count,
            attempts=(self.attempt(),),
        )


@dataclass(frozen=True, kw_only=True)
class InvoicePaymentActionRequired(InvoiceEvent):
    """The payment needs the customer (3-D Secure ...): show them the hosted invoice."""

    type = "invoice.payment_action_required"
    amount_due: int
    attempt_count: int = 1
    """The attempt that waits for the customer (Stripe's ``attempt_count``)."""
    card_brand: str | None = None
    card_last4: str | None = None
    """The card the bank asks the customer to confirm a payment of (optional)."""

    def payment_failure(self) -> PaymentFailure:
        attempt = PaymentAttempt(
            number=self.attempt_count,
            at=self.stripe_created,
            outcome=AttemptOutcome.ACTION_REQUIRED,
            card_brand=self.card_brand,
            card_last4=self.card_last4,
        )
        return PaymentFailure(
            amount_due=Money(amount=self.amount_due, currency=self.currency),
            hosted_invoice_url=self.hosted_invoice_url,
            invoice_id=self.stripe_invoice_id,
            attempt_count=self.attempt_count,
            action_required=True,
            attempts=(attempt,),
        )


@dataclass(frozen=True, kw_only=True)
class InvoiceVoided(InvoiceEvent):
    """The invoice was voided: nothing is owed on it any more (a payment failure of it
    is over)."""

    type = "invoice.voided"


@dataclass(frozen=True, kw_only=True)
class InvoiceMarkedUncollectible(InvoiceEvent):
    """The invoice was written off as uncollectible (Stripe stops retrying it; a
    payment failure of it is over). ``amount_due`` is what was written off."""

    type = "invoice.marked_uncollectible"
    amount_due: int


CATALOGUE: tuple[type[IntegrationEvent], ...] = (
    CheckoutSessionCreated,
    CustomerCreated,
    CheckoutCompleted,
    CheckoutSessionExpired,
    CheckoutAsyncPaymentFailed,
    SubscriptionActivated,
    SubscriptionUpdated,
    SubscriptionCancelScheduled,
    SubscriptionResumed,
    SubscriptionPlanChanged,
    SubscriptionCanceled,
    SubscriptionTrialWillEnd,
    InvoicePaid,
    InvoicePaymentFailed,
    InvoicePaymentActionRequired,
    InvoiceVoided,
    InvoiceMarkedUncollectible,
    CustomerUpdated,
    *TRIAL_EVENTS,
    *PORTAL_EVENTS,
)
