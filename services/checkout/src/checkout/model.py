"""What the checkout service's use cases take and return: plain frozen dataclasses.

Adapters translate Stripe objects and rows into these, so use cases never see an
SDK object, a row or a request model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from billing_domain.auth import Principal
from billing_domain.plans import PlanType

# -- commands -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StartCheckout:
    principal: Principal
    plan: str
    trial: bool = False
    idempotency_key: str | None = None
    causation_id: str
    """The request id: becomes the ``causation_id`` of the events this causes."""


@dataclass(frozen=True, kw_only=True)
class OpenPortal:
    principal: Principal


@dataclass(frozen=True, kw_only=True)
class VerifySession:
    principal: Principal
    session_id: str


# -- what the Stripe port speaks --------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class NewCheckoutSession:
    """Everything Stripe needs to open a subscription-mode Checkout session."""

    tenant_id: str
    customer_id: str
    price_id: str
    plan: PlanType
    trial_days: int | None
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


@dataclass(frozen=True, kw_only=True)
class TenantPlan:
    """The tenant's plan as the last ``subscription.*`` event put it."""

    tenant_id: str
    plan: PlanType
    status: str
    as_of: datetime


# -- results ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CheckoutStarted:
    session_id: str
    url: str
    replayed: bool = False
    """True when a double click (or a repeated ``Idempotency-Key``) got the earlier session."""


@dataclass(frozen=True, kw_only=True)
class Verification:
    verified: bool
    status: str | None
    payment_status: str | None
    plan: PlanType | None
    trial: bool


@dataclass(frozen=True, kw_only=True)
class PlanOffer:
    plan: PlanType
    name: str
    amount: int
    currency: str
    interval: str
    interval_count: int
    trial_days: int
