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
from billing_platform.stripe_gateway import StripeCaller
from fastapi import FastAPI

from checkout.adapters.postgres import PgCheckoutUnitOfWork
from checkout.adapters.stripe import StripePaymentGateway, UnconfiguredPaymentGateway
from checkout.config import CheckoutConfig, CheckoutLimits
from checkout.consumer import BINDING_KEYS, build_handler, queue_name
from checkout.plans import CachingPriceCatalogue
from checkout.ports import PaymentGateway, PriceCatalogue, RateLimiter, UnitOfWorkFactory
from checkout.rate_limit import SlidingWindowRateLimiter
from checkout.schema import SCHEMA

log = structlog.get_logger("checkout.bootstrap")


@dataclass(frozen=True, kw_only=True)
class CheckoutServices:
    """What the routes hand to the use cases; on ``app.state.checkout``."""

    uow_factory: UnitOfWorkFactory
    gateway: PaymentGateway
    prices: PriceCatalogue
    limiter: RateLimiter
    config: CheckoutConfig
    clock: Clock


def build_gateway(settings: BillingSettings) -> PaymentGateway:
    if not settings.stripe_api_key:
        log.warning("checkout.stripe.not_configured")
        return UnconfiguredPaymentGateway()
    return StripePaymentGateway(StripeCaller.from_settings(settings))


def lifespan_for(
    settings: BillingSettings, bus: MessageBus | None = None, limits: CheckoutLimits | None = None
) -> Lifespan:
    limits = limits or CheckoutLimits()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_infrastructure(app, schema=SCHEMA, settings=settings, bus=bus) as infra:
            app.state.infrastructure = infra
            uow_factory = partial(PgCheckoutUnitOfWork, infra.pool)
            gateway = build_gateway(settings)
            app.state.checkout = CheckoutServices(
                uow_factory=uow_factory,
                gateway=gateway,
                prices=CachingPriceCatalogue(gateway, ttl_s=limits.plan_cache_ttl_s),
                limiter=SlidingWindowRateLimiter(limits.sessions_per_window, limits.window_s),
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
