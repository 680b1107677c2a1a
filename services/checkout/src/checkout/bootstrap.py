"""The one place that builds this service's adapters and wires them together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import structlog
from billing_platform.clock import SystemClock
from billing_platform.http.app import Lifespan
from billing_platform.http.context import install_context
from billing_platform.messaging.message import MessageBus
from billing_platform.runtime import service_infrastructure
from billing_platform.settings import BillingSettings
from billing_platform.stripe_budget import BucketRule, budget_from_settings
from billing_platform.stripe_gateway import StripeCaller
from fastapi import FastAPI

from checkout.adapters.postgres import PgCheckoutUnitOfWork
from checkout.adapters.stripe import StripePaymentGateway, UnconfiguredPaymentGateway
from checkout.config import CheckoutConfig, CheckoutLimits
from checkout.consumer import (
    BINDING_KEYS,
    DELIVERY_LIMIT,
    PREFETCH,
    billing_event_handler,
    queue_name,
)
from checkout.context import CheckoutContext
from checkout.plans import CachingPriceCatalogue
from checkout.ports import PaymentGateway
from checkout.schema import SCHEMA

log = structlog.get_logger("checkout.bootstrap")

SESSIONS = "sessions"
"""The budget bucket of checkout and portal session creation (``CHECKOUT_SESSIONS_PER_MINUTE``)."""


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
            context = CheckoutContext(
                uow_factory=uow_factory,
                gateway=gateway,
                prices=CachingPriceCatalogue(gateway, ttl_s=limits.plan_cache_ttl_s),
                budget=budget_from_settings(infra.pool, SCHEMA, settings, _session_rule(settings)),
                config=CheckoutConfig.from_settings(settings),
                clock=SystemClock(),
            )
            install_context(app, context)
            await infra.bus.subscribe(
                queue_name(settings.billing_exchange),
                BINDING_KEYS,
                billing_event_handler(uow_factory),
                prefetch=PREFETCH,
                delivery_limit=DELIVERY_LIMIT,
            )
            yield

    return lifespan
