"""What the routes, the consumer and ``billing reconcile`` are handed: the ports, built by
``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.clock import Clock
from billing_platform.stripe_budget import StripeBudget

from subscriptions.ports import AccountReader, PaymentGateway, ProrationQuotes, UnitOfWorkFactory
from subscriptions.self_service.ports import SelfServiceGateway, SelfServiceReader


@dataclass(frozen=True, kw_only=True)
class SubscriptionsContext:
    """Installed by ``bootstrap.lifespan_for``; routes read it with ``context_of``."""

    reader: AccountReader
    uow_factory: UnitOfWorkFactory
    gateway: PaymentGateway
    clock: Clock
    quotes: ProrationQuotes
    """The proration dates previews issued (outside any transaction)."""
    budget: StripeBudget
    """Each tenant's share of Stripe: every route that calls Stripe spends from it."""
    self_service: SelfServiceReader
    """The tenant's cards and invoices (projections; the list reads never call Stripe)."""
    self_service_gateway: SelfServiceGateway
