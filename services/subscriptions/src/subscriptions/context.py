"""What the routes, the consumer and ``billing reconcile`` are handed: the ports, built by
``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.clock import Clock
from billing_domain.trials import DEFAULT_MAX_EXTENSION_DAYS
from billing_platform.stripe_budget import StripeBudget

from subscriptions.ports import (
    AccountReader,
    PaymentGateway,
    PaymentQueueReader,
    ProrationQuotes,
    TrialExtensions,
    UnitOfWorkFactory,
)
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
    trial_extensions: TrialExtensions
    """The audit of operators' trial extensions, read outside any transaction."""
    trial_max_extension_days: int = DEFAULT_MAX_EXTENSION_DAYS
    """``TRIAL_MAX_EXTENSION_DAYS``: a tenant's trial is extended by at most this in all."""
    queue: PaymentQueueReader
    """The failed-payment queue and the operators' audit (outside any transaction)."""
