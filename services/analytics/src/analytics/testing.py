"""Fakes of analytics' ports and builders of the billing events it consumes (tests only).

Imported by tests only: an import-linter contract forbids every production module of
analytics to import this one. The fake unit of work stands on the platform's
``billing_platform.testing.fakes.FakeUnitOfWork`` (staged writes, commit, rollback).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from billing_domain.envelope import IntegrationEvent
from billing_domain.events import (
    CheckoutCompleted,
    CheckoutSessionCreated,
    InvoicePaid,
    InvoicePaymentFailed,
    SubscriptionUpdated,
)
from billing_domain.plans import PlanType
from billing_domain.portal_events import PortalSessionCreated
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.billing_events import ConsumedEvent
from billing_platform.testing.fakes import FakeMessageInbox, FakeUnitOfWork

from analytics.ports import (
    Activity,
    ActivityDay,
    CataloguePrice,
    FailureDay,
    Kpis,
    LedgerDays,
    ListedPage,
    ListedSubscription,
    Movement,
    MovementDay,
    PaymentFailure,
    PlanDay,
    TenantRevenue,
)

# -- builders of consumed events -----------------------------------------------------


def _stripe_event_id() -> str:
    return f"evt_{uuid.uuid4().hex[:20]}"


def _header(tenant_id: str, at: datetime, source: str, event_id: str | None) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "occurred_at": at,
        "tenant_id": tenant_id,
        "source": source,
        "causation_id": event_id or _stripe_event_id(),
    }


def subscription_updated(
    tenant_id: str,
    *,
    at: datetime,
    plan: PlanType = PlanType.SOLO,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    amount: int | None = 1000,
    currency: str | None = "usd",
    subscription_id: str | None = None,
    cancel_at_period_end: bool = False,
    event_id: str | None = None,
) -> SubscriptionUpdated:
    return SubscriptionUpdated(
        **_header(tenant_id, at, "webhooks", event_id),
        stripe_created=at,
        stripe_subscription_id=subscription_id or f"sub_{tenant_id}",
        stripe_customer_id=f"cus_{tenant_id}",
        plan=plan,
        status=status,
        cancel_at_period_end=cancel_at_period_end,
        amount=amount,
        currency=currency,
    )


def payment_failed(
    tenant_id: str,
    *,
    at: datetime,
    invoice_id: str,
    amount_due: int,
    attempt: int = 1,
    currency: str = "usd",
) -> InvoicePaymentFailed:
    return InvoicePaymentFailed(
        **_header(tenant_id, at, "webhooks", None),
        stripe_created=at,
        stripe_invoice_id=invoice_id,
        stripe_customer_id=f"cus_{tenant_id}",
        currency=currency,
        amount_due=amount_due,
        attempt_count=attempt,
    )


def invoice_paid(
    tenant_id: str, *, at: datetime, invoice_id: str, amount_paid: int, currency: str = "usd"
) -> InvoicePaid:
    return InvoicePaid(
        **_header(tenant_id, at, "webhooks", None),
        stripe_created=at,
        stripe_invoice_id=invoice_id,
        stripe_customer_id=f"cus_{tenant_id}",
        currency=currency,
        amount_paid=amount_paid,
    )


def checkout_created(tenant_id: str, *, at: datetime, session_id: str) -> CheckoutSessionCreated:
    return CheckoutSessionCreated(
        **_header(tenant_id, at, "checkout", f"req_{session_id}"),
        checkout_session_id=session_id,
        stripe_customer_id=f"cus_{tenant_id}",
        plan=PlanType.SOLO,
        trial=False,
    )


def checkout_completed(tenant_id: str, *, at: datetime, session_id: str) -> CheckoutCompleted:
    return CheckoutCompleted(
        **_header(tenant_id, at, "webhooks", None),
        stripe_created=at,
        checkout_session_id=session_id,
        stripe_customer_id=f"cus_{tenant_id}",
        stripe_subscription_id=f"sub_{tenant_id}",
        plan=PlanType.SOLO,
        trial=False,
        payment_status="paid",
        amount=1000,
        currency="usd",
    )


def portal_opened(tenant_id: str, *, at: datetime) -> PortalSessionCreated:
    return PortalSessionCreated(
        **_header(tenant_id, at, "checkout", f"req_{uuid.uuid4().hex[:8]}"),
        stripe_customer_id=f"cus_{tenant_id}",
    )


def consumed(event: IntegrationEvent, *, message_id: str | None = None) -> ConsumedEvent:
    """The message a consumer receives for ``event`` (its AMQP id is the event id)."""
    return ConsumedEvent(
        message_id=message_id or str(event.id), routing_key=event.routing_key, event=event
    )


# -- fakes ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FailureRecord:
    """One payment failure as the fake ledger keeps it (Postgres keeps the rows and their
    daily sums; the reader sees only the sums, ``FailureDay``)."""

    currency: str
    amount_due: int
    failed_at: datetime
    recovered_at: datetime | None
    recovered_amount: int | None


@dataclass
class LedgerData:
    states: dict[str, TenantRevenue] = field(default_factory=dict)
    movements: dict[tuple[str, str, str, str], Movement] = field(default_factory=dict)
    activity: dict[tuple[str, str], Activity] = field(default_factory=dict)
    failures: dict[str, FailureRecord] = field(default_factory=dict)


@dataclass
class _Stage:
    data: LedgerData
    inbox: set[str] = field(default_factory=set)


def _copy(data: LedgerData) -> LedgerData:
    return LedgerData(
        states=dict(data.states),
        movements=dict(data.movements),
        activity=dict(data.activity),
        failures=dict(data.failures),
    )


class FakeRevenueLedger:
    """The ledger on the stage of its unit of work (copy-on-enter, swap-on-commit)."""

    def __init__(self, uow: FakeAnalyticsUnitOfWork) -> None:
        self._uow = uow

    @property
    def _data(self) -> LedgerData:
        return self._uow.staged.data

    async def state(self, tenant_id: str) -> TenantRevenue | None:
        return self._data.states.get(tenant_id)

    async def save_state(self, state: TenantRevenue) -> None:
        self._data.states[state.tenant_id] = state

    async def add_movements(self, movements: Sequence[Movement]) -> int:
        added = 0
        for m in movements:
            key = (m.tenant_id, m.event_id, m.currency, m.kind.value)
            if key not in self._data.movements:
                self._data.movements[key] = m
                added += 1
        return added

    async def add_activity(self, activity: Activity) -> bool:
        key = (activity.kind, activity.key)
        if key in self._data.activity:
            return False
        self._data.activity[key] = activity
        return True

    async def payment_failed(self, failure: PaymentFailure) -> bool:
        if failure.invoice_id in self._data.failures:
            return False
        self._data.failures[failure.invoice_id] = FailureRecord(
            currency=failure.currency,
            amount_due=failure.amount_due,
            failed_at=failure.failed_at,
            recovered_at=None,
            recovered_amount=None,
        )
        return True

    async def payment_recovered(self, invoice_id: str, *, at: datetime, amount: int) -> bool:
        found = self._data.failures.get(invoice_id)
        if found is None or found.recovered_at is not None or at < found.failed_at:
            return False
        self._data.failures[invoice_id] = replace(found, recovered_at=at, recovered_amount=amount)
        return True

    async def payment_closed(self, invoice_id: str, *, at: datetime) -> bool:
        return invoice_id in self._data.failures


class FakeAnalyticsUnitOfWork(FakeUnitOfWork[_Stage]):
    def __init__(self, store: FakeStore) -> None:
        self.store = store
        super().__init__()
        self.ledger = FakeRevenueLedger(self)
        self.inbox = FakeMessageInbox(store.inbox, lambda: self.staged.inbox)

    def _new_stage(self) -> _Stage:
        return _Stage(data=_copy(self.store.data))

    def _apply(self, staged: _Stage) -> None:
        self.store.data = staged.data
        self.store.inbox |= staged.inbox


@dataclass
class FakeStore:
    data: LedgerData = field(default_factory=LedgerData)
    inbox: set[str] = field(default_factory=set)

    def uow(self) -> FakeAnalyticsUnitOfWork:
        return FakeAnalyticsUnitOfWork(self)


def failure_days(failures: Iterable[FailureRecord]) -> list[FailureDay]:
    """Failure records summed by the UTC day of their first failure, as the reader does."""
    by_day: dict[tuple[date, str], list[FailureRecord]] = defaultdict(list)
    for f in failures:
        by_day[(f.failed_at.astimezone(UTC).date(), f.currency)].append(f)
    found = []
    for (day, currency), records in by_day.items():
        recovered = [f for f in records if f.recovered_at is not None]
        found.append(
            FailureDay(
                day=day,
                currency=currency,
                failed=len(records),
                failed_amount=sum(f.amount_due for f in records),
                recovered=len(recovered),
                recovered_amount=sum(f.recovered_amount or 0 for f in recovered),
                waits=[
                    (f.recovered_at - f.failed_at).total_seconds()
                    for f in recovered
                    if f.recovered_at is not None
                ],
            )
        )
    return found


class FakeMetricsReader:
    """The reader's daily sums, computed in Python from a ``FakeStore``."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    async def ledger_days(self, *, since: datetime, until: datetime) -> LedgerDays:
        data = self._store.data
        moves: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
        plans: dict[tuple[Any, ...], int] = defaultdict(int)
        for m in data.movements.values():
            if m.occurred_at >= until:
                continue
            day = m.occurred_at.date()
            sums = moves[(day, m.currency, m.kind)]
            sums[0] += m.mrr_after - m.mrr_before
            sums[1] += int(m.mrr_after > 0) - int(m.mrr_before > 0)
            if m.mrr_after > 0 and m.plan_after is not None:
                plans[(day, m.currency, m.plan_after)] += 1
            if m.mrr_before > 0 and m.plan_before is not None:
                plans[(day, m.currency, m.plan_before)] -= 1
        counts: dict[tuple[Any, ...], int] = defaultdict(int)
        for a in data.activity.values():
            if since <= a.occurred_at < until:
                counts[(a.occurred_at.date(), a.kind, a.currency)] += 1
        return LedgerDays(
            movements=[
                MovementDay(day=d, currency=c, kind=k, delta=s[0], logos=s[1])
                for (d, c, k), s in moves.items()
            ],
            plans=[PlanDay(day=d, currency=c, plan=p, change=n) for (d, c, p), n in plans.items()],
            activity=[
                ActivityDay(day=d, kind=k, currency=c, facts=n) for (d, k, c), n in counts.items()
            ],
            failures=failure_days(
                f for f in data.failures.values() if since <= f.failed_at < until
            ),
        )

    async def kpis(self, now: datetime) -> Kpis:
        data = self._store.data
        paying = [s for s in data.states.values() if s.mrr > 0 and s.currency]
        mrr: dict[str, int] = defaultdict(int)
        count: dict[str, int] = defaultdict(int)
        for state in paying:
            mrr[str(state.currency)] += state.mrr
            count[str(state.currency)] += 1
        recent = [
            a for a in data.activity.values() if now - timedelta(hours=1) < a.occurred_at <= now
        ]
        return Kpis(
            mrr=dict(mrr),
            paying=dict(count),
            invoices_paid_1h=sum(a.kind == "invoice_paid" for a in recent),
            payment_attempts_failed_1h=sum(a.kind == "payment_attempt_failed" for a in recent),
        )


# -- the backfill's sources ----------------------------------------------------------


class FakeSubscriptionDirectory:
    """The subscriptions listing over a list, paged like the API (by tenant id)."""

    def __init__(self, rows: Sequence[ListedSubscription], *, page_size: int = 2) -> None:
        self.rows = sorted(rows, key=lambda r: r.tenant_id)
        self.page_size = page_size
        self.pages = 0

    async def page(self, cursor: str | None) -> ListedPage:
        self.pages += 1
        after = [r for r in self.rows if cursor is None or r.tenant_id > cursor]
        page = after[: self.page_size]
        more = len(after) > self.page_size
        return ListedPage(subscriptions=page, next_cursor=page[-1].tenant_id if more else None)


@dataclass
class FakePriceBook:
    prices: dict[tuple[PlanType, str], CataloguePrice]
    asked: list[tuple[PlanType, str]] = field(default_factory=list)

    async def price(self, plan: PlanType, interval: str) -> CataloguePrice | None:
        self.asked.append((plan, interval))
        return self.prices.get((plan, interval))


def listed(
    tenant_id: str,
    *,
    plan: PlanType = PlanType.SOLO,
    interval: str = "month",
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    updated_at: datetime,
    subscription: bool = True,
) -> ListedSubscription:
    return ListedSubscription(
        tenant_id=tenant_id,
        subscription_id=f"sub_{tenant_id}" if subscription else None,
        plan=plan,
        interval=interval,
        status=status,
        cancel_at_period_end=False,
        updated_at=updated_at,
    )
