"""What checkout's routes hand to the use cases: the ports, built by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.clock import Clock
from billing_platform.stripe_budget import StripeBudget

from checkout.config import CheckoutConfig
from checkout.ports import PaymentGateway, PriceCatalogue, UnitOfWorkFactory


@dataclass(frozen=True, kw_only=True)
class CheckoutContext:
    """Installed by ``bootstrap.lifespan_for``; routes read it with ``context_of``."""

    uow_factory: UnitOfWorkFactory
    gateway: PaymentGateway
    prices: PriceCatalogue
    budget: StripeBudget
    """Each tenant's share of Stripe: every route that calls Stripe spends from it."""
    config: CheckoutConfig
    clock: Clock
