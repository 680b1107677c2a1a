"""Commands: what a caller asks checkout to do, and what the use cases answer (frozen,
keyword-only). Adapters never see these; the routes build them from requests."""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.auth import Principal
from billing_domain.plans import PlanType

from checkout.ports import SavedCard

# -- commands -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StartCheckout:
    principal: Principal
    plan: str
    trial: bool = False
    interval: str = "month"
    """``month`` | ``year``: which of the plan's two prices."""
    idempotency_key: str | None = None
    causation_id: str
    """The request id: becomes the ``causation_id`` of the events this causes."""


@dataclass(frozen=True, kw_only=True)
class OpenPortal:
    principal: Principal
    causation_id: str
    """The request's id: ``portal.session_created``'s causation."""


@dataclass(frozen=True, kw_only=True)
class StartCardSetup:
    """Add a card: a setup-mode Checkout session for the tenant's customer."""

    principal: Principal
    idempotency_key: str | None = None
    causation_id: str


@dataclass(frozen=True, kw_only=True)
class VerifySession:
    principal: Principal
    session_id: str


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
    mode: str | None = None
    saved_card: SavedCard | None = None
    """A setup session's card (the setup succeeded)."""
    made_default: bool = False
    """That card is now the default of the customer and its subscriptions."""


@dataclass(frozen=True, kw_only=True)
class PlanOffer:
    plan: PlanType
    name: str
    amount: int
    currency: str
    interval: str
    interval_count: int
    trial_days: int
    yearly_amount: int | None = None
    """The yearly price (minor units), when the plan has one on offer."""
