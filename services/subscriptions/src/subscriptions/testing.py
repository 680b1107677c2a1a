"""Fakes of the subscriptions service's ports and builders of its inputs, for its tests.

Imported by tests only: an import-linter contract forbids every production module of
subscriptions to import this one. The fake unit of work stands on the platform's
``billing_platform.testing.fakes.FakeUnitOfWork`` (staged writes, commit, rollback).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import uuid
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import httpx
from billing_domain import events as ev
from billing_domain.auth import Principal, Role
from billing_domain.clock import Clock
from billing_domain.envelope import IntegrationEvent
from billing_domain.errors import NotFound
from billing_domain.invoice_history import InvoiceDocument
from billing_domain.money import Money
from billing_domain.ordering import AppliedMark
from billing_domain.payment_recovery import ActionOutcome, PaymentAttempt
from billing_domain.plans import BillingInterval, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot
from billing_domain.trials import TrialExtension
from billing_platform.messaging.message import MessageBus
from billing_platform.testing.clock import FakeClock
from billing_platform.testing.fakes import FakeMessageInbox, FakeUnitOfWork
from fastapi import FastAPI

from subscriptions.ports import (
    InvoicePayment,
    LastEmail,
    LinkedAccount,
    ListedAccount,
    PaymentGateway,
    ProrationPreview,
    StoredGrant,
    TrialEndPreview,
    TrialExtensionRecord,
)
from subscriptions.self_service.ports import StoredCard

PRICES = {PlanType.SOLO: 900, PlanType.TEAM: 2900, PlanType.ENTERPRISE: 9900}
YEARLY_FACTOR = 10  # a year costs ten months (the sandbox's seed)


def price_of(plan: PlanType, interval: BillingInterval) -> int:
    return PRICES[plan] * (YEARLY_FACTOR if interval is BillingInterval.YEAR else 1)


T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
_ids = itertools.count(1)


STRIPE_WORDING = {
    PaymentAttempt.PAID: InvoicePayment(attempt=PaymentAttempt.PAID, invoice_status="paid"),
    PaymentAttempt.DECLINED: InvoicePayment(
        attempt=PaymentAttempt.DECLINED,
        invoice_status=None,
        refusal_code="card_declined",
        refusal="Your card was declined.",
    ),
    PaymentAttempt.REQUIRES_ACTION: InvoicePayment(
        attempt=PaymentAttempt.REQUIRES_ACTION,
        invoice_status=None,
        refusal_code="invoice_payment_intent_requires_action",
        refusal="This payment requires additional user action before it can be completed.",
    ),
}
"""Stripe's answer to ``invoices.pay`` for each attempt, as ``FakePaymentGateway`` gives it."""


class FakePaymentGateway:
    """Stripe as this service sees it: subscriptions by id; records every call."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, SubscriptionSnapshot] = {}
        self.customers: dict[str, str] = {}  # tenant -> customer
        self.calls: list[str] = []
        self.keys: list[str] = []
        self.proration_dates: list[datetime | None] = []
        self.fail_with: Exception | None = None
        self.invoice_answers: dict[str, PaymentAttempt | InvoicePayment | Exception] = {}
        self.clock_time: datetime | None = None
        """The test clock's frozen time, when the subscriptions live on one."""

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_with is not None:
            raise self.fail_with

    def put(self, snapshot: SubscriptionSnapshot) -> SubscriptionSnapshot:
        self.subscriptions[snapshot.subscription_id] = snapshot
        return snapshot

    def _update(self, subscription_id: str, **changes: Any) -> SubscriptionSnapshot:
        current = self.subscriptions.get(subscription_id)
        if current is None:
            raise NotFound(f"no {subscription_id}", code="stripe_not_found")
        return self.put(dataclasses.replace(current, **changes))

    async def read_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        self._enter("read_subscription")
        if subscription_id not in self.subscriptions:
            raise NotFound(f"no {subscription_id}", code="stripe_not_found")
        return self.subscriptions[subscription_id]

    async def current_subscription(self, customer_id: str) -> SubscriptionSnapshot | None:
        self._enter("current_subscription")
        mine = [s for s in self.subscriptions.values() if s.customer_id == customer_id]
        live = [s for s in mine if not s.status.is_ended]
        found = live or mine
        return found[-1] if found else None

    async def find_customer(self, tenant_id: str) -> str | None:
        self._enter("find_customer")
        return self.customers.get(tenant_id)

    async def schedule_cancel(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        self._enter("schedule_cancel")
        self.keys.append(idempotency_key)
        return self._update(subscription_id, cancel_at_period_end=True, pending_plan=None)

    async def resume(self, subscription_id: str, *, idempotency_key: str) -> SubscriptionSnapshot:
        self._enter("resume")
        self.keys.append(idempotency_key)
        return self._update(subscription_id, cancel_at_period_end=False)

    async def release_pending_change(self, subscription_id: str, *, idempotency_key: str) -> None:
        self._enter("release_pending_change")
        self.keys.append(idempotency_key)
        self._update(subscription_id, pending_plan=None)

    async def preview_plan_change(
        self,
        subscription_id: str,
        target: PlanType,
        *,
        interval: BillingInterval = BillingInterval.MONTH,
        proration_date: datetime | None = None,
        now: datetime | None = None,
        prorate: bool,
    ) -> ProrationPreview:
        self._enter("preview_plan_change")
        current = self.subscriptions[subscription_id]
        new, old = price_of(target, interval), price_of(current.plan, current.interval)
        difference = new - old if prorate else 0
        when = proration_date or self.clock_time or now
        assert when is not None
        return ProrationPreview(
            proration_amount=Money(amount=difference, currency="usd"),
            next_invoice_amount=Money(amount=new + difference, currency="usd"),
            proration_date=when.replace(microsecond=0),
        )

    async def change_plan_now(
        self,
        subscription_id: str,
        target: PlanType,
        *,
        interval: BillingInterval = BillingInterval.MONTH,
        proration_date: datetime | None,
        idempotency_key: str,
    ) -> SubscriptionSnapshot:
        self._enter("change_plan_now")
        self.keys.append(idempotency_key)
        self.proration_dates.append(proration_date)
        return self._update(subscription_id, plan=target, interval=interval, pending_plan=None)

    async def schedule_plan_change(
        self,
        subscription_id: str,
        target: PlanType,
        *,
        interval: BillingInterval = BillingInterval.MONTH,
        effective_at: datetime,
        idempotency_key: str,
    ) -> SubscriptionSnapshot:
        self._enter("schedule_plan_change")
        self.keys.append(idempotency_key)
        pending = PendingPlanChange(plan=target, effective_at=effective_at, interval=interval)
        return self._update(subscription_id, pending_plan=pending)

    async def preview_trial_end(self, subscription_id: str) -> TrialEndPreview:
        self._enter("preview_trial_end")
        current = self.subscriptions[subscription_id]
        return TrialEndPreview(
            amount_due=Money(amount=PRICES[current.plan], currency="usd"), period_end=None
        )

    async def end_trial_now(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        self._enter("end_trial_now")
        self.keys.append(idempotency_key)
        return self._update(subscription_id, status=SubscriptionStatus.ACTIVE)

    async def move_trial_end(
        self, subscription_id: str, trial_end: datetime, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        self._enter("move_trial_end")
        self.keys.append(idempotency_key)
        return self._update(subscription_id, trial_end=trial_end, current_period_end=trial_end)

    async def resume_paused(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        self._enter("resume_paused")
        self.keys.append(idempotency_key)
        return self._update(subscription_id, status=SubscriptionStatus.ACTIVE)

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> InvoicePayment:
        """``invoice_answers[invoice_id]``: the answer to give (a bare attempt as Stripe
        words it: a decline is ``card_declined``), or the error to raise; paid by default."""
        self._enter("pay_invoice")
        self.keys.append(idempotency_key)
        answer = self.invoice_answers.get(invoice_id, PaymentAttempt.PAID)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, InvoicePayment):
            return answer
        return STRIPE_WORDING[answer]


class FakeTrialExtensions:
    """The extensions' audit; reservations are written at once (the use case commits them)."""

    def __init__(self) -> None:
        self.records: list[TrialExtensionRecord] = []

    async def total_days(self, tenant_id: str) -> int:
        return sum(r.extend_days for r in self.records if r.tenant_id == tenant_id)

    async def reserve(
        self, *, tenant_id: str, subscription_id: str, operator_sub: str, extension: TrialExtension
    ) -> int:
        record = TrialExtensionRecord(
            id=len(self.records) + 1,
            tenant_id=tenant_id,
            subscription_id=subscription_id,
            operator_sub=operator_sub,
            reason=extension.reason,
            extend_days=extension.extend_days,
            previous_trial_end=extension.previous_trial_end,
            new_trial_end=extension.new_trial_end,
            status="pending",
            created_at=T0,
        )
        self.records.append(record)
        return record.id

    async def mark_applied(self, reservation: int, at: datetime) -> None:
        self.records = [
            dataclasses.replace(r, status="applied") if r.id == reservation else r
            for r in self.records
        ]

    async def release(self, reservation: int) -> None:
        self.records = [r for r in self.records if r.id != reservation or r.status != "pending"]

    async def recent(self, *, tenant_id: str | None, limit: int) -> list[TrialExtensionRecord]:
        found = [r for r in self.records if tenant_id is None or r.tenant_id == tenant_id]
        return list(reversed(found))[:limit]


class FakeProrationQuotes:
    """Issued proration dates: (tenant, plan, interval, date) -> expiry."""

    def __init__(self) -> None:
        self.issued_until: dict[tuple[str, PlanType, BillingInterval, datetime], datetime] = {}

    async def issue(
        self,
        *,
        tenant_id: str,
        plan: PlanType,
        proration_date: datetime,
        expires_at: datetime,
        now: datetime,
        interval: BillingInterval = BillingInterval.MONTH,
    ) -> None:
        self.issued_until = {k: v for k, v in self.issued_until.items() if v > now}
        self.issued_until[(tenant_id, plan, interval, proration_date)] = expires_at

    async def issued(
        self,
        *,
        tenant_id: str,
        plan: PlanType,
        proration_date: datetime,
        now: datetime,
        interval: BillingInterval = BillingInterval.MONTH,
    ) -> bool:
        expires_at = self.issued_until.get((tenant_id, plan, interval, proration_date))
        return expires_at is not None and expires_at > now


class FakeStore:
    """What a database would hold once committed."""

    def __init__(self) -> None:
        self.accounts: dict[str, BillingAccount] = {}
        self.outbox: list[IntegrationEvent] = []
        self.inbox: set[str] = set()
        self.actions: list[dict[str, Any]] = []
        self.last_emails: dict[str, LastEmail] = {}
        self.quotes = FakeProrationQuotes()
        self.cards: dict[tuple[str, str], StoredCard] = {}
        self.invoices: dict[tuple[str, str], InvoiceDocument] = {}
        self.defaults: dict[str, str | None] = {}
        self.trial_extensions = FakeTrialExtensions()
        self.commits = 0

    def published_types(self) -> list[str]:
        return [event.type for event in self.outbox]


@dataclasses.dataclass
class Staged:
    """One transaction's writes, invisible to the store until committed."""

    accounts: dict[str, BillingAccount] = dataclasses.field(default_factory=dict)
    events: list[IntegrationEvent] = dataclasses.field(default_factory=list)
    inbox: set[str] = dataclasses.field(default_factory=set)
    cards: dict[tuple[str, str], StoredCard] = dataclasses.field(default_factory=dict)
    invoices: dict[tuple[str, str], InvoiceDocument] = dataclasses.field(default_factory=dict)
    defaults: dict[str, str | None] = dataclasses.field(default_factory=dict)
    actions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    settled: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)
    emails: dict[str, LastEmail] = dataclasses.field(default_factory=dict)


class _FakeSelfService:
    """The self-service projections (cards, default, invoices), staged like the rest."""

    def __init__(self, uow: FakeSubscriptionsUnitOfWork) -> None:
        self._uow = uow

    async def card_for_update(self, tenant_id: str, payment_method_id: str) -> StoredCard | None:
        key = (tenant_id, payment_method_id)
        return self._uow.staged.cards.get(key) or self._uow.store.cards.get(key)

    async def save_card(self, card: StoredCard) -> None:
        self._uow.staged.cards[(card.tenant_id, card.card.payment_method_id)] = card

    async def cards_of(self, tenant_id: str) -> list[StoredCard]:
        merged = {**self._uow.store.cards, **self._uow.staged.cards}
        return [card for (tenant, _), card in sorted(merged.items()) if tenant == tenant_id]

    async def set_default(
        self,
        tenant_id: str,
        customer_id: str | None,
        payment_method_id: str | None,
        mark: AppliedMark | None = None,
    ) -> None:
        self._uow.staged.defaults[tenant_id] = payment_method_id

    async def invoice_for_update(self, tenant_id: str, invoice_id: str) -> InvoiceDocument | None:
        key = (tenant_id, invoice_id)
        return self._uow.staged.invoices.get(key) or self._uow.store.invoices.get(key)

    async def save_invoice(self, invoice: InvoiceDocument) -> None:
        self._uow.staged.invoices[(invoice.tenant_id, invoice.invoice_id)] = invoice


class _FakeAccounts:
    def __init__(self, uow: FakeSubscriptionsUnitOfWork) -> None:
        self._uow = uow

    async def get_for_update(self, tenant_id: str) -> BillingAccount:
        staged = self._uow.staged.accounts.get(tenant_id)
        found = staged or self._uow.store.accounts.get(tenant_id)
        return copy.deepcopy(found) if found else BillingAccount.free(tenant_id)

    async def save(self, account: BillingAccount) -> None:
        saved = copy.deepcopy(account)
        saved.events.clear()
        self._uow.staged.accounts[account.tenant_id] = saved


class _FakeOutbox:
    def __init__(self, uow: FakeSubscriptionsUnitOfWork) -> None:
        self._uow = uow

    async def add_all(self, events: Iterable[IntegrationEvent]) -> None:
        self._uow.staged.events.extend(events)


class _FakeActions:
    """The audit as a list; an action's id is its place in it, from 1."""

    def __init__(self, uow: FakeSubscriptionsUnitOfWork) -> None:
        self._uow = uow

    async def record(self, **action: Any) -> int:
        self._uow.staged.actions.append(action)
        return len(self._uow.store.actions) + len(self._uow.staged.actions)

    async def settle(
        self, action_id: int, *, outcome: ActionOutcome, detail: str | None, settled_at: datetime
    ) -> None:
        self._uow.staged.settled[action_id] = {
            "outcome": outcome,
            "detail": detail,
            "settled_at": settled_at,
        }


class _FakeLastEmails:
    def __init__(self, uow: FakeSubscriptionsUnitOfWork) -> None:
        self._uow = uow

    async def record(self, tenant_id: str, email: LastEmail, *, message_id: str) -> None:
        kept = self._uow.staged.emails.get(tenant_id) or self._uow.store.last_emails.get(tenant_id)
        if kept is None or kept.sent_at <= email.sent_at:
            self._uow.staged.emails[tenant_id] = email


class FakeSubscriptionsUnitOfWork(FakeUnitOfWork[Staged]):
    """Stages writes; only ``commit`` makes them visible in the store."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        super().__init__()
        self.accounts = _FakeAccounts(self)
        self.quotes = store.quotes
        self.trial_extensions = store.trial_extensions
        self.outbox = _FakeOutbox(self)
        self.inbox = FakeMessageInbox(store.inbox, lambda: self.staged.inbox)
        self.self_service = _FakeSelfService(self)
        self.actions = _FakeActions(self)
        self.last_emails = _FakeLastEmails(self)

    def _new_stage(self) -> Staged:
        return Staged()

    def _apply(self, staged: Staged) -> None:
        self.store.accounts.update(staged.accounts)
        self.store.outbox.extend(staged.events)
        self.store.inbox.update(staged.inbox)
        self.store.cards.update(staged.cards)
        self.store.invoices.update(staged.invoices)
        self.store.defaults.update(staged.defaults)
        self.store.actions.extend(staged.actions)
        for action_id, changes in staged.settled.items():
            self.store.actions[action_id - 1].update(changes)
        self.store.last_emails.update(staged.emails)
        self.store.commits += 1


class FakeAccountReader:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def find(self, tenant_id: str) -> BillingAccount | None:
        return copy.deepcopy(self.store.accounts.get(tenant_id))

    async def grant(self, tenant_id: str) -> StoredGrant | None:
        account = self.store.accounts.get(tenant_id)
        if account is None:
            return None
        return StoredGrant(plan=account.plan, status=account.status, as_of=T0)

    async def linked_accounts(
        self, *, tenant_id: str | None, after: str | None, limit: int
    ) -> list[LinkedAccount]:
        found = sorted(
            (
                a
                for a in self.store.accounts.values()
                if a.stripe_customer_id or a.stripe_subscription_id
            ),
            key=lambda a: a.tenant_id,
        )
        found = [
            a
            for a in found
            if (tenant_id is None or a.tenant_id == tenant_id)
            and (after is None or a.tenant_id > after)
        ]
        return [
            LinkedAccount(
                tenant_id=a.tenant_id,
                stripe_customer_id=a.stripe_customer_id,
                stripe_subscription_id=a.stripe_subscription_id,
            )
            for a in found[:limit]
        ]

    async def accounts_page(self, *, after: str | None, limit: int) -> list[ListedAccount]:
        found = sorted(self.store.accounts.values(), key=lambda a: a.tenant_id)
        return [
            ListedAccount(account=copy.deepcopy(a), updated_at=T0)
            for a in found
            if after is None or a.tenant_id > after
        ][:limit]


@dataclasses.dataclass
class World:
    """Every fake, wired: the use cases' dependencies."""

    store: FakeStore
    gateway: FakePaymentGateway
    clock: FakeClock

    def uow(self) -> FakeSubscriptionsUnitOfWork:
        return FakeSubscriptionsUnitOfWork(self.store)

    @property
    def reader(self) -> FakeAccountReader:
        return FakeAccountReader(self.store)

    @property
    def quotes(self) -> FakeProrationQuotes:
        return self.store.quotes

    def seed(self, account: BillingAccount) -> BillingAccount:
        self.store.accounts[account.tenant_id] = copy.deepcopy(account)
        snapshot = account.snapshot()
        if snapshot is not None:
            self.gateway.put(snapshot)
        return account


Published = TypeVar("Published", bound=IntegrationEvent)


def _from_webhooks(
    cls: type[Published],
    tenant_id: str,
    created: datetime,
    *,
    stripe_event_id: str | None = None,
    **data: Any,
) -> Published:
    """A billing event as the webhooks service publishes it for a Stripe event ``created``."""
    return ev.new_event(
        cls,
        tenant_id=tenant_id,
        source="webhooks",
        causation_id=stripe_event_id or f"evt_{uuid.uuid4().hex[:16]}",
        clock=FakeClock(created),
        stripe_created=created,
        **data,
    )


class Builders:
    """Domain values and the billing events the webhooks service publishes."""

    from_webhooks = staticmethod(_from_webhooks)

    @staticmethod
    def tenant() -> str:
        return f"tenant_{uuid.uuid4().hex[:12]}"

    @staticmethod
    def principal(tenant_id: str, role: str = "owner") -> Principal:
        return Principal(user_id=f"user_{tenant_id}", tenant_id=tenant_id, role=Role(role))

    @staticmethod
    def paid_account(
        tenant_id: str,
        *,
        plan: PlanType = PlanType.TEAM,
        status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
        period_end: datetime = T0 + timedelta(days=20),
        **extra: Any,
    ) -> BillingAccount:
        n = next(_ids)
        return BillingAccount(
            tenant_id=tenant_id,
            stripe_customer_id=f"cus_{n}",
            stripe_subscription_id=f"sub_{n}",
            plan=plan,
            status=status,
            current_period_end=period_end,
            **extra,
        )

    @staticmethod
    def snapshot(
        *,
        subscription_id: str = "sub_1",
        customer_id: str = "cus_1",
        plan: PlanType = PlanType.TEAM,
        status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
        period_end: datetime = T0 + timedelta(days=30),
        **extra: Any,
    ) -> SubscriptionSnapshot:
        return SubscriptionSnapshot(
            subscription_id=subscription_id,
            customer_id=customer_id,
            plan=plan,
            status=status,
            current_period_end=period_end,
            **extra,
        )

    @staticmethod
    def subscription_updated(
        tenant_id: str,
        snapshot: SubscriptionSnapshot,
        *,
        created: datetime,
        stripe_event_id: str | None = None,
    ) -> ev.SubscriptionUpdated:
        return _from_webhooks(
            ev.SubscriptionUpdated,
            tenant_id,
            created,
            stripe_event_id=stripe_event_id,
            **ev.snapshot_data(snapshot),
        )

    @staticmethod
    def checkout_completed(
        tenant_id: str,
        *,
        customer_id: str,
        subscription_id: str,
        plan: PlanType = PlanType.TEAM,
        trial: bool = False,
        created: datetime = T0,
    ) -> ev.CheckoutCompleted:
        return _from_webhooks(
            ev.CheckoutCompleted,
            tenant_id,
            created,
            checkout_session_id=f"cs_{uuid.uuid4().hex[:12]}",
            stripe_customer_id=customer_id,
            stripe_subscription_id=subscription_id,
            plan=plan,
            trial=trial,
            payment_status="no_payment_required" if trial else "paid",
            amount=0 if trial else PRICES[plan],
            currency="usd",
        )

    @staticmethod
    def payment_failed(
        tenant_id: str,
        *,
        invoice_id: str,
        subscription_id: str,
        customer_id: str = "cus_1",
        amount_due: int = 2900,
        created: datetime = T0,
        next_attempt: datetime | None = T0 + timedelta(days=3),
        attempt_count: int = 1,
        decline_code: str | None = None,
        card: tuple[str, str] | None = None,
    ) -> ev.InvoicePaymentFailed:
        """``card``: (brand, last4) of the attempt."""
        return _from_webhooks(
            ev.InvoicePaymentFailed,
            tenant_id,
            created,
            stripe_invoice_id=invoice_id,
            stripe_customer_id=customer_id,
            stripe_subscription_id=subscription_id,
            currency="usd",
            hosted_invoice_url=f"https://pay.example/{invoice_id}",
            amount_due=amount_due,
            next_payment_attempt=next_attempt,
            attempt_count=attempt_count,
            decline_code=decline_code,
            card_brand=None if card is None else card[0],
            card_last4=None if card is None else card[1],
        )

    @staticmethod
    def invoice_paid(
        tenant_id: str,
        *,
        invoice_id: str,
        subscription_id: str,
        customer_id: str = "cus_1",
        amount_paid: int = 2900,
        created: datetime = T0,
    ) -> ev.InvoicePaid:
        return _from_webhooks(
            ev.InvoicePaid,
            tenant_id,
            created,
            stripe_invoice_id=invoice_id,
            stripe_customer_id=customer_id,
            stripe_subscription_id=subscription_id,
            currency="usd",
            amount_paid=amount_paid,
        )

    @staticmethod
    def invoice_closed(
        tenant_id: str,
        *,
        uncollectible: bool,
        invoice_id: str,
        subscription_id: str,
        created: datetime = T0,
    ) -> ev.InvoiceVoided | ev.InvoiceMarkedUncollectible:
        """``invoice.voided``, or ``invoice.marked_uncollectible`` (2900 written off)."""
        common: dict[str, Any] = {
            "stripe_invoice_id": invoice_id,
            "stripe_customer_id": "cus_1",
            "stripe_subscription_id": subscription_id,
            "currency": "usd",
        }
        if uncollectible:
            return _from_webhooks(
                ev.InvoiceMarkedUncollectible, tenant_id, created, **common, amount_due=2900
            )
        return _from_webhooks(ev.InvoiceVoided, tenant_id, created, **common)


def new_world() -> World:
    return World(FakeStore(), FakePaymentGateway(), FakeClock(T0))


class AppClient(Protocol):
    """The ``app_client`` fixture: the app inside its lifespan and an HTTP client to it.

    ``async with app_client(gateway=..., clock=..., **settings) as (client, app): ...``
    """

    def __call__(
        self,
        *,
        gateway: PaymentGateway | None = None,
        clock: Clock | None = None,
        bus: MessageBus | None = None,
        **overrides: object,
    ) -> AbstractAsyncContextManager[tuple[httpx.AsyncClient, FastAPI]]: ...
