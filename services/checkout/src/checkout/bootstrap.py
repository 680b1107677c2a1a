"""The one place that builds this service's adapters and wires them together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import structlog
from billing_domain.clock import Clock
from billing_platform.clock import SystemClock
from billing_platform.http.app import Lifespan
from billing_platform.messaging.message import MessageBus
from billing_platform.runtime import service_infrastructure
from billing_platform.settings import BillingSettings
from billing_platform.stripe_budget import BucketRule, StripeBudget, budget_from_settings
from billing_platform.stripe_gateway import StripeCaller
from fastapi import FastAPI

from checkout.adapters.postgres import PgCheckoutUnitOfWork
from checkout.adapters.stripe import StripePaymentGateway, UnconfiguredPaymentGateway
from checkout.config import CheckoutConfig, CheckoutLimits
from checkout.consumer import BINDING_KEYS, build_handler, queue_name
from checkout.plans import CachingPriceCatalogue
from checkout.ports import PaymentGateway, PriceCatalogue, UnitOfWorkFactory
from checkout.schema import SCHEMA

log = structlog.get_logger("checkout.bootstrap")

SESSIONS = "sessions"
"""The budget bucket of checkout and portal session creation (``CHECKOUT_SESSIONS_PER_MINUTE``)."""


@dataclass(frozen=True, kw_only=True)
class CheckoutServices:
    """What the routes hand to the use cases; on ``app.state.checkout``."""

    uow_factory: UnitOfWorkFactory
    gateway: PaymentGateway
    prices: PriceCatalogue
    budget: StripeBudget
    """Each tenant's share of Stripe: every route that calls Stripe spends from it."""
    config: CheckoutConfig
    clock: Clock


def build_gateway(settings: BillingSettings) -> PaymentGateway:
    if not settings.stripe_api_key:
        log.warning("checkout.stripe.not_configured")
        return UnconfiguredPaymentGateway()
    return StripePaymentGateway(StripeCaller.from_settings(settings))


def _session_rule(settings: BillingSettings) -> dict[str, BucketRule]:
    per_minute = settings.checkout_sessions_per_minute
    return {SESSIONS: BucketRule(burst=max(1, round(per_minute)), per_minute=per_minute)}


def lifespan_for(
    settings: BillingSettings, bus: MessageBus | None = None, limits: CheckoutLimits | None = None
) -> Lifespan:
    limits = limits or CheckoutLimits()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_infrastructure(app, schema=SCHEMA, settings=settings, bus=bus) as infra:
            app.state.infrastructure = infra
            uow_factory = partial(PgCheckoutUnitOfWork, infra.pool, wake_relay=infra.relay.wake)
            gateway = build_gateway(settings)
            app.state.checkout = CheckoutServices(
                uow_factory=uow_factory,
                gateway=gateway,
                prices=CachingPriceCatalogue(gateway, ttl_s=limits.plan_cache_ttl_s),
                budget=budget_from_settings(infra.pool, SCHEMA, settings, _session_rule(settings)),
                config=CheckoutConfig.from_settings(settings),
                clock=SystemClock(),
            )
            await infra.bus.subscribe(
                queue_name(settings.billing_exchange),
                BINDING_KEYS,
                build_handler(uow_factory),
                prefetch=16,
                delivery_limit=5,
            )
            yield

    return lifespan
