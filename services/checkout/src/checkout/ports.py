"""The ports the checkout use cases need, sized to them (typing.Protocol), and the plain
frozen values that cross them: use cases never see an SDK object, a row or a request model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from billing_domain.envelope import IntegrationEvent
from billing_domain.plans import BillingInterval, PlanType
from billing_platform.messaging.inbox import MessageInbox
from billing_platform.uow import TransactionalUnitOfWork

# -- the values that cross the ports (adapters translate Stripe objects and rows into these)


@dataclass(frozen=True, kw_only=True)
class NewCheckoutSession:
    """Everything Stripe needs to open a subscription-mode Checkout session."""

    tenant_id: str
    customer_id: str
    price_id: str
    plan: PlanType
    trial_days: int | None
    interval: BillingInterval = BillingInterval.MONTH
    trial_requires_card: bool = True
    """False: ``payment_method_collection=if_required`` (a trial starts without a card)."""
    trial_end_without_card: str = "pause"
    """``trial_settings.end_behavior.missing_payment_method`` when no card was given."""
    success_url: str
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True, kw_only=True)
class NewSetupSession:
    """A setup-mode Checkout session: save a card to the tenant's customer, charge nothing."""

    tenant_id: str
    customer_id: str
    currency: str
    success_url: str
    cancel_url: str
    idempotency_key: str


@dataclass(frozen=True, kw_only=True)
class OpenedSession:
    session_id: str
    url: str


@dataclass(frozen=True, kw_only=True)
class StripeSessionView:
    """A Checkout session as Stripe reports it, reduced to what verification reads."""

    session_id: str
    status: str | None
    payment_status: str | None
    customer_id: str | None
    client_reference_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    mode: str | None = None
    """``subscription`` (a plan) or ``setup`` (a card saved, nothing bought)."""
    saved_card: SavedCard | None = None
    """A setup-mode session whose SetupIntent succeeded: the card it saved."""


@dataclass(frozen=True, kw_only=True)
class SavedCard:
    payment_method_id: str
    brand: str | None = None
    last4: str | None = None


@dataclass(frozen=True, kw_only=True)
class PriceInfo:
    price_id: str
    name: str | None
    amount: int
    currency: str
    interval: str
    interval_count: int = 1


# -- what this service stores ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CheckoutSessionRecord:
    session_id: str
    tenant_id: str
    plan: PlanType
    trial: bool
    url: str
    stripe_customer_id: str
    status: str = "open"
    idempotency_key: str | None = None
    created_at: datetime
    interval: BillingInterval = BillingInterval.MONTH


@dataclass(frozen=True, kw_only=True)
class TenantPlan:
    """The tenant's plan as the last ``subscription.*`` event put it."""

    tenant_id: str
    plan: PlanType
    status: str
    as_of: datetime


class PaymentGateway(Protocol):
    """Stripe, as far as checkout uses it. Errors arrive as domain errors."""

    async def create_customer(self, *, tenant_id: str, idempotency_key: str) -> str:
        """Create the tenant's Stripe customer (metadata ``tenant_id``); its id."""
        ...

    async def create_checkout_session(self, request: NewCheckoutSession) -> OpenedSession: ...

    async def create_setup_session(self, request: NewSetupSession) -> OpenedSession: ...

    async def make_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> None:
        """The customer's ``invoice_settings.default_payment_method`` AND each live
        subscription's ``default_payment_method`` (the next retry charges it)."""
        ...

    async def retrieve_checkout_session(self, session_id: str) -> StripeSessionView:
        """``NotFound`` when Stripe does not know the session."""
        ...

    async def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        """The URL of a Customer Portal session."""
        ...

    async def prices(self, price_ids: Sequence[str]) -> dict[str, PriceInfo]: ...


class PriceCatalogue(Protocol):
    """Prices by id, possibly cached."""

    async def prices(self, price_ids: Sequence[str]) -> dict[str, PriceInfo]: ...


class CustomerRepository(Protocol):
    async def lock(self, tenant_id: str) -> None:
        """Serialise customer creation for one tenant until the transaction ends."""
        ...

    async def get(self, tenant_id: str) -> str | None:
        """The tenant's Stripe customer id, if it has one."""
        ...

    async def tenant_of(self, customer_id: str) -> str | None: ...

    async def add(self, *, tenant_id: str, customer_id: str, created_at: datetime) -> None: ...


class CheckoutSessionRepository(Protocol):
    async def add(self, record: CheckoutSessionRecord) -> bool:
        """Store a new session; False when it was stored already."""
        ...

    async def get(self, session_id: str) -> CheckoutSessionRecord | None: ...

    async def by_idempotency_key(
        self, tenant_id: str, idempotency_key: str
    ) -> CheckoutSessionRecord | None: ...

    async def latest_open(
        self,
        *,
        tenant_id: str,
        plan: PlanType,
        trial: bool,
        since: datetime,
        interval: BillingInterval = ...,
    ) -> CheckoutSessionRecord | None:
        """The newest open session for this tenant, plan, interval and trial created at
        ``since`` or later,
        that was opened without an ``Idempotency-Key``."""
        ...

    async def latest_open_trial(
        self, *, tenant_id: str, since: datetime
    ) -> CheckoutSessionRecord | None:
        """The newest trial session of this tenant, still open here, created at ``since`` or
        later (with or without an ``Idempotency-Key``)."""
        ...

    async def mark_completed(
        self, session_id: str, *, payment_status: str, completed_at: datetime
    ) -> bool:
        """False when the session is not one of ours."""
        ...


class TenantPlanRepository(Protocol):
    async def get(self, tenant_id: str) -> TenantPlan | None: ...

    async def save(self, plan: TenantPlan) -> bool:
        """Store unless a newer state (``as_of``) is stored already; True when stored."""
        ...


class TrialRegistry(Protocol):
    """Who has had their one trial: a tenant, or its Stripe customer."""

    async def used(self, *, tenant_id: str, customer_id: str | None) -> bool: ...

    async def lock(self, tenant_id: str) -> None:
        """Serialise this tenant's trial checkouts until the transaction ends."""
        ...

    async def record(
        self, *, tenant_id: str, customer_id: str | None, evidence: str, used_at: datetime
    ) -> None:
        """Idempotent: the first record of a tenant stays."""
        ...


class CardSetupLog(Protocol):
    """Setup sessions whose card was made the default: once per session, so coming back
    to an old return URL never undoes a later choice of default."""

    async def adopted(self, session_id: str) -> bool: ...

    async def record(
        self, *, session_id: str, tenant_id: str, payment_method_id: str, adopted_at: datetime
    ) -> None: ...


class EventOutbox(Protocol):
    async def add(self, *events: IntegrationEvent) -> None: ...


class UnitOfWork(TransactionalUnitOfWork, Protocol):
    @property
    def customers(self) -> CustomerRepository: ...

    @property
    def sessions(self) -> CheckoutSessionRepository: ...

    @property
    def tenant_plans(self) -> TenantPlanRepository: ...

    @property
    def trials(self) -> TrialRegistry: ...

    @property
    def card_setups(self) -> CardSetupLog: ...

    @property
    def outbox(self) -> EventOutbox: ...

    @property
    def inbox(self) -> MessageInbox: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
