"""The ports this service's use cases need, sized to them (typing.Protocol)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from billing_domain.envelope import IntegrationEvent
from billing_domain.money import Money
from billing_domain.payment_recovery import ActionOutcome, OperatorAction, PaymentAttempt
from billing_domain.plans import BillingInterval, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import SubscriptionSnapshot
from billing_domain.trials import TrialExtension
from billing_platform.messaging.inbox import MessageInbox
from billing_platform.uow import TransactionalUnitOfWork

from subscriptions.self_service.ports import SelfServiceRepository


@dataclass(frozen=True, kw_only=True)
class ProrationPreview:
    """What a plan change would cost, from Stripe's invoice preview."""

    proration_amount: Money
    """The prorated difference for the rest of the current period (0 for a downgrade)."""
    next_invoice_amount: Money
    """The next invoice: prorations plus the next period on the new plan."""
    proration_date: datetime
    """The moment the proration is computed for (Stripe's now for the subscription: its
    test clock's time when it has one); pass it back to change the plan."""


@dataclass(frozen=True, kw_only=True)
class StoredGrant:
    """What the projection holds for a tenant's entitlements (one primary-key read)."""

    plan: PlanType
    status: SubscriptionStatus
    as_of: datetime
    """When the projection last changed for the tenant."""


@dataclass(frozen=True, kw_only=True)
class LinkedAccount:
    """A tenant the projection knows a Stripe customer or subscription for."""

    tenant_id: str
    stripe_customer_id: str | None
    stripe_subscription_id: str | None


@dataclass(frozen=True, kw_only=True)
class ListedAccount:
    """A tenant's account in the operators' listing, with when the projection last changed it."""

    account: BillingAccount
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class TrialEndPreview:
    """What ending the trial now would charge at once (Stripe's invoice preview)."""

    amount_due: Money
    period_end: datetime | None


@dataclass(frozen=True, kw_only=True)
class TrialExtensionRecord:
    """One operator's extension of a tenant's trial, as audited."""

    id: int
    tenant_id: str
    subscription_id: str
    operator_sub: str
    reason: str
    extend_days: int
    previous_trial_end: datetime
    new_trial_end: datetime
    status: str
    created_at: datetime


class TrialExtensions(Protocol):
    """The audit of trial extensions; ``pending`` rows count toward the cap."""

    async def total_days(self, tenant_id: str) -> int: ...

    async def reserve(
        self,
        *,
        tenant_id: str,
        subscription_id: str,
        operator_sub: str,
        extension: TrialExtension,
    ) -> int: ...

    async def mark_applied(self, reservation: int, at: datetime) -> None: ...

    async def release(self, reservation: int) -> None: ...

    async def recent(self, *, tenant_id: str | None, limit: int) -> list[TrialExtensionRecord]: ...


class BillingAccountRepository(Protocol):
    async def get_for_update(self, tenant_id: str) -> BillingAccount:
        """The tenant's account, locked until commit; a free account when never seen."""
        ...

    async def save(self, account: BillingAccount) -> None: ...


class EventOutbox(Protocol):
    async def add_all(self, events: Iterable[IntegrationEvent]) -> None: ...


class ProrationQuotes(Protocol):
    """The ``proration_date`` values previews issued: a plan change may only send one back.

    Stripe prorates from any date of the current period it is given, so a date
    chosen by the client (the period's last minute) would make an upgrade nearly free.
    """

    async def issue(
        self,
        *,
        tenant_id: str,
        plan: PlanType,
        proration_date: datetime,
        expires_at: datetime,
        now: datetime,
        interval: BillingInterval = ...,
    ) -> None:
        """Record a quote; quotes expired at ``now`` (the service's clock, never the
        proration date: a test clock's time) may be dropped, any tenant's."""
        ...

    async def issued(
        self,
        *,
        tenant_id: str,
        plan: PlanType,
        proration_date: datetime,
        now: datetime,
        interval: BillingInterval = ...,
    ) -> bool:
        """True when a preview issued this date for this tenant, plan and interval,
        unexpired at ``now``."""
        ...


class SubscriptionsUnitOfWork(TransactionalUnitOfWork, Protocol):
    @property
    def accounts(self) -> BillingAccountRepository: ...

    @property
    def quotes(self) -> ProrationQuotes: ...

    @property
    def outbox(self) -> EventOutbox: ...

    @property
    def inbox(self) -> MessageInbox: ...

    @property
    def self_service(self) -> SelfServiceRepository: ...

    @property
    def trial_extensions(self) -> TrialExtensions: ...

    @property
    def actions(self) -> OperatorActionLog: ...

    @property
    def last_emails(self) -> LastEmails: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> SubscriptionsUnitOfWork: ...


class AccountReader(Protocol):
    """Reads outside any transaction: the GET path and the reconcile listing."""

    async def find(self, tenant_id: str) -> BillingAccount | None: ...

    async def grant(self, tenant_id: str) -> StoredGrant | None:
        """The tenant's plan and status as the projection holds them (the entitlements read)."""
        ...

    async def linked_accounts(
        self, *, tenant_id: str | None, after: str | None, limit: int
    ) -> list[LinkedAccount]:
        """Accounts with a Stripe customer or subscription, ordered by tenant id."""
        ...

    async def accounts_page(self, *, after: str | None, limit: int) -> list[ListedAccount]:
        """Every account after ``after`` (tenant id), ordered by tenant id."""
        ...


@dataclass(frozen=True, kw_only=True)
class InvoicePayment:
    """Stripe's immediate answer to ``invoices.pay`` (the outcome arrives by webhook)."""

    attempt: PaymentAttempt
    invoice_status: str | None
    """The invoice's status in Stripe's answer (``paid``; ``open`` while a payment waits);
    ``None`` when Stripe refused the card."""
    refusal_code: str | None = None
    """Why the card was refused, in Stripe's words (``card_declined``, ``expired_card``,
    ``invoice_payment_intent_requires_action``...); ``None`` when it was not."""
    refusal: str | None = None
    """Stripe's message for that refusal (what the tenant is shown)."""


class InvoicePayer(Protocol):
    """Charging an open invoice now: the operators' retry and the tenant's "pay now"."""

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> InvoicePayment:
        """``invoices.pay`` with the default method (the subscription's, else the
        customer's ``invoice_settings``). A refused card is an answer, not an error.
        ``Conflict`` (``stripe_refused``) when Stripe will not try (no such invoice,
        already paid, void), ``GatewayUnavailable`` when it cannot be reached."""
        ...


class PaymentGateway(InvoicePayer, Protocol):
    """Stripe, as this service uses it. Every method may raise ``GatewayUnavailable``."""

    async def read_subscription(self, subscription_id: str) -> SubscriptionSnapshot: ...

    async def current_subscription(self, customer_id: str) -> SubscriptionSnapshot | None:
        """The customer's subscription that matters: a live one first, else the newest."""
        ...

    async def find_customer(self, tenant_id: str) -> str | None:
        """The Stripe customer whose metadata names this tenant, if any."""
        ...

    async def schedule_cancel(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot: ...

    async def resume(self, subscription_id: str, *, idempotency_key: str) -> SubscriptionSnapshot:
        """Undo a scheduled cancel (``cancel_at_period_end`` false)."""
        ...

    async def release_pending_change(self, subscription_id: str, *, idempotency_key: str) -> None:
        """Drop a scheduled plan change (release the subscription's schedule), if any."""
        ...

    async def preview_plan_change(
        self,
        subscription_id: str,
        target: PlanType,
        *,
        interval: BillingInterval = ...,
        proration_date: datetime | None = None,
        now: datetime | None = None,
        prorate: bool,
    ) -> ProrationPreview:
        """Stripe's preview of moving to ``target`` at ``interval``: prorated at
        ``proration_date`` (None: Stripe's now for the subscription, its test clock's time,
        else ``now``); ``prorate`` False: the next invoice at the new price, no proration."""
        ...

    async def change_plan_now(
        self,
        subscription_id: str,
        target: PlanType,
        *,
        interval: BillingInterval = ...,
        proration_date: datetime | None,
        idempotency_key: str,
    ) -> SubscriptionSnapshot:
        """Change the price now, prorated at ``proration_date`` (None: Stripe's now)."""
        ...

    # -- trials (issue 20) ------------------------------------------------------

    async def preview_trial_end(self, subscription_id: str) -> TrialEndPreview:
        """The invoice ``trial_end=now`` would create."""
        ...

    async def end_trial_now(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        """``trial_end=now``: the first invoice is created and charged at once."""
        ...

    async def move_trial_end(
        self, subscription_id: str, trial_end: datetime, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        """A later ``trial_end`` with ``proration_behavior=none``."""
        ...

    async def resume_paused(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        """Resume a ``paused`` subscription now; it stays paused until the invoice is paid."""
        ...

    async def schedule_plan_change(
        self,
        subscription_id: str,
        target: PlanType,
        *,
        interval: BillingInterval = ...,
        effective_at: datetime,
        idempotency_key: str,
    ) -> SubscriptionSnapshot: ...


# -- the failed-payment queue (operators) ----------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LastEmail:
    """The newest email the notifications service reported for a tenant (``notification.sent``)."""

    kind: str
    subject_id: str | None
    to: str | None
    status: str
    sent_at: datetime


@dataclass(frozen=True, kw_only=True)
class ActionRecord:
    """One audited operator action."""

    id: int
    tenant_id: str
    action: OperatorAction
    operator_sub: str
    requested_at: datetime
    outcome: str
    detail: str | None
    stripe_invoice_id: str | None
    settled_at: datetime | None
    reason: str | None = None
    """The operator's own words, when given."""


@dataclass(frozen=True, kw_only=True)
class QueuePosition:
    """Where a page of the queue ended: its sort key (amount due, -1 for none; tenant)."""

    amount: int
    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class PastDueQuery:
    statuses: tuple[SubscriptionStatus, ...]
    currency: str | None
    after: QueuePosition | None
    limit: int
    tenant_id: str | None = None
    """Only this tenant's row (a page polling one row after an action)."""


@dataclass(frozen=True, kw_only=True)
class PastDueRow:
    account: BillingAccount
    last_email: LastEmail | None
    last_action: ActionRecord | None


class PaymentQueueReader(Protocol):
    """Reads of the queue outside any transaction (never Stripe)."""

    async def past_due(self, query: PastDueQuery) -> list[PastDueRow]:
        """Tenants in ``query.statuses``, by amount due (largest first), then tenant id."""
        ...

    async def actions(
        self, tenant_id: str, *, before: int | None, limit: int
    ) -> list[ActionRecord]:
        """The tenant's audited actions, newest first."""
        ...


class OperatorActionLog(Protocol):
    async def record(
        self,
        *,
        tenant_id: str,
        action: OperatorAction,
        operator_sub: str,
        requested_at: datetime,
        outcome: ActionOutcome,
        stripe_invoice_id: str | None,
        request_id: str,
        detail: str | None = None,
        reason: str | None = None,
    ) -> int:
        """Audit an action; its id."""
        ...

    async def settle(
        self, action_id: int, *, outcome: ActionOutcome, detail: str | None, settled_at: datetime
    ) -> None:
        """Write how a pending action ended (Stripe's answer)."""
        ...


class LastEmails(Protocol):
    async def record(self, tenant_id: str, email: LastEmail, *, message_id: str) -> None:
        """Keep ``email`` as the tenant's last one unless a newer one is kept already."""
        ...
