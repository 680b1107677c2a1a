"""The ports of the analytics use cases and the plain values that cross them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple, Protocol

from billing_domain.plans import PlanType
from billing_domain.revenue import MovementKind
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.inbox import MessageInbox
from billing_platform.uow import TransactionalUnitOfWork


@dataclass(frozen=True, kw_only=True)
class TenantRevenue:
    """A tenant's subscription as last applied, and the MRR it stands for."""

    tenant_id: str
    subscription_id: str
    status: SubscriptionStatus
    plan: PlanType
    currency: str | None
    amount: int | None
    """One billing interval's price x quantity (minor units), as last known."""
    interval: str
    mrr: int
    cancel_at_period_end: bool
    paid_before: bool
    """The tenant had MRR at some time (its return is a reactivation, not new)."""
    as_of: datetime
    as_of_event: str
    """The ordering mark: the Stripe time of the state applied (``as_of``) and the ids of
    the events applied in that second, space-separated (``ledger.is_stale``)."""


@dataclass(frozen=True, kw_only=True)
class Movement:
    """One change of a tenant's MRR (or an opening balance), at the Stripe event's time."""

    tenant_id: str
    subscription_id: str
    currency: str
    kind: MovementKind
    mrr_before: int
    mrr_after: int
    plan_before: PlanType | None
    plan_after: PlanType | None
    occurred_at: datetime
    event_id: str


class ActivityKind:
    TRIAL_STARTED = "trial_started"
    TRIAL_CONVERTED = "trial_converted"
    TRIAL_LOST = "trial_lost"
    CHECKOUT_CREATED = "checkout_created"
    CHECKOUT_COMPLETED = "checkout_completed"
    CANCEL_SCHEDULED = "cancel_scheduled"
    PORTAL_SESSION = "portal_session"
    INVOICE_PAID = "invoice_paid"
    PAYMENT_ATTEMPT_FAILED = "payment_attempt_failed"


@dataclass(frozen=True, kw_only=True)
class Activity:
    """A dated fact counted once (``kind``, ``key`` unique)."""

    kind: str
    key: str
    tenant_id: str
    occurred_at: datetime
    currency: str | None = None
    amount: int | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentFailure:
    invoice_id: str
    tenant_id: str
    currency: str
    amount_due: int
    failed_at: datetime


class RevenueLedger(Protocol):
    async def state(self, tenant_id: str) -> TenantRevenue | None:
        """The tenant's state, locked for this transaction."""
        ...

    async def save_state(self, state: TenantRevenue) -> None: ...

    async def add_movements(self, movements: Sequence[Movement]) -> int:
        """Insert the movements not yet recorded; how many were new."""
        ...

    async def add_activity(self, activity: Activity) -> bool: ...

    async def payment_failed(self, failure: PaymentFailure) -> bool:
        """Record an invoice's first failure; False when it was already known."""
        ...

    async def payment_recovered(self, invoice_id: str, *, at: datetime, amount: int) -> bool:
        """Mark a known, open failure recovered; False when none was open."""
        ...

    async def payment_closed(self, invoice_id: str, *, at: datetime) -> bool:
        """A failure that ends unpaid (voided, written off)."""
        ...


class UnitOfWork(TransactionalUnitOfWork, Protocol):
    @property
    def ledger(self) -> RevenueLedger: ...

    @property
    def inbox(self) -> MessageInbox: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


# -- reading the ledger ------------------------------------------------------------


# The daily sums are plain named tuples: a year of them is built on every metrics read.


class MovementDay(NamedTuple):
    day: date
    currency: str
    kind: MovementKind
    delta: int
    """Sum of ``mrr_after - mrr_before``."""
    logos: int
    """Paying tenants gained (+) or lost (-)."""


class PlanDay(NamedTuple):
    day: date
    currency: str
    plan: PlanType
    change: int


class ActivityDay(NamedTuple):
    day: date
    kind: str
    currency: str | None
    facts: int
    """How many facts of ``kind`` that day."""


class FailureDay(NamedTuple):
    """The invoices whose (first) payment failure fell on one day, in one currency."""

    day: date
    currency: str
    failed: int
    failed_amount: int
    """Sum of their ``amount_due``."""
    recovered: int
    """How many of them were paid since."""
    recovered_amount: int
    waits: Sequence[float]
    """Seconds from failure to recovery, one per recovered invoice (for the median)."""


@dataclass(frozen=True, kw_only=True)
class LedgerDays:
    """What the metrics are computed from: daily sums of the ledger up to ``until``."""

    movements: Sequence[MovementDay]
    """Every day before ``until`` (balances need the whole history)."""
    plans: Sequence[PlanDay]
    activity: Sequence[ActivityDay]
    """Days from ``since`` (30 days before the range, for rolling rates) to ``until``."""
    failures: Sequence[FailureDay]
    """Failures by the day of their first failure, in [since, until)."""


@dataclass(frozen=True, kw_only=True)
class Kpis:
    """The ledger's figures behind the Prometheus KPI gauges, at one moment."""

    mrr: dict[str, int]
    paying: dict[str, int]
    invoices_paid_1h: int
    payment_attempts_failed_1h: int


class MetricsReader(Protocol):
    async def ledger_days(self, *, since: datetime, until: datetime) -> LedgerDays: ...

    async def kpis(self, now: datetime) -> Kpis: ...


# -- opening balances (``billing analytics backfill``) ---------------------------------


@dataclass(frozen=True, kw_only=True)
class ListedSubscription:
    """A tenant's subscription as the subscriptions service's projection holds it (its
    operators' listing, never its tables)."""

    tenant_id: str
    subscription_id: str | None
    plan: PlanType
    interval: str
    status: SubscriptionStatus
    cancel_at_period_end: bool
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class ListedPage:
    subscriptions: Sequence[ListedSubscription]
    next_cursor: str | None


class SubscriptionDirectory(Protocol):
    """Every tenant's subscription, page by page (``GET /api/billing/admin/subscriptions``)."""

    async def page(self, cursor: str | None) -> ListedPage: ...


@dataclass(frozen=True, kw_only=True)
class CataloguePrice:
    """What one billing interval of a plan costs, as Stripe's catalogue says."""

    amount: int
    currency: str
    interval: str
    interval_count: int = 1


class PriceBook(Protocol):
    async def price(self, plan: PlanType, interval: str) -> CataloguePrice | None:
        """The plan's price for the interval; ``None`` when none is configured."""
        ...
