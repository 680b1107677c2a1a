"""The one place that builds this service's adapters and wires them together."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from billing_domain.clock import Clock
from billing_platform.clock import SystemClock
from billing_platform.db import create_pool
from billing_platform.http.app import Lifespan
from billing_platform.http.context import install_context
from billing_platform.messaging.message import MessageBus
from billing_platform.runtime import service_infrastructure
from billing_platform.settings import BillingSettings
from billing_platform.stripe_budget import budget_from_settings
from billing_platform.stripe_gateway import StripeCaller
from billing_platform.stripe_reading import PriceCatalog
from fastapi import FastAPI

from subscriptions.adapters.payment_queue import PgPaymentQueueReader
from subscriptions.adapters.postgres import PgAccountReader, PgPool, PgSubscriptionsUnitOfWork
from subscriptions.adapters.proration_quotes import PgProrationQuotes
from subscriptions.adapters.self_service_postgres import PgSelfServiceReader
from subscriptions.adapters.self_service_stripe import StripeSelfServiceGateway
from subscriptions.adapters.stripe import StripeSubscriptionGateway
from subscriptions.adapters.trial_extensions import PgTrialExtensions
from subscriptions.consumer import (
    BINDING_KEYS,
    DELIVERY_LIMIT,
    PREFETCH,
    billing_event_handler,
    queue_name,
)
from subscriptions.context import SubscriptionsContext
from subscriptions.ports import PaymentGateway
from subscriptions.reconcile import ReconcileReport, reconcile
from subscriptions.schema import SCHEMA
from subscriptions.self_service.ports import SelfServiceGateway


def build_gateway(settings: BillingSettings) -> PaymentGateway:
    """Stripe through the platform's caller; without ``STRIPE_API_KEY`` every call is a 503."""
    caller = StripeCaller.from_settings(settings) if settings.stripe_api_key else None
    return StripeSubscriptionGateway(
        caller, PriceCatalog(settings.price_ids(), settings.yearly_price_ids())
    )


def build_self_service_gateway(
    settings: BillingSettings, gateway: PaymentGateway
) -> SelfServiceGateway:
    """On the subscription gateway's caller when it has one: one rate limit per process."""
    if isinstance(gateway, StripeSubscriptionGateway):
        return StripeSelfServiceGateway(gateway.caller)
    caller = StripeCaller.from_settings(settings) if settings.stripe_api_key else None
    return StripeSelfServiceGateway(caller)


def build_context(
    pool: PgPool,
    gateway: PaymentGateway,
    clock: Clock,
    *,
    settings: BillingSettings,
    wake_relay: Callable[[], None] | None = None,
    self_service_gateway: SelfServiceGateway | None = None,
) -> SubscriptionsContext:
    """``wake_relay``: this process's outbox relay (none: units of work NOTIFY instead)."""
    return SubscriptionsContext(
        reader=PgAccountReader(pool),
        uow_factory=lambda: PgSubscriptionsUnitOfWork(pool, wake_relay=wake_relay),
        gateway=gateway,
        clock=clock,
        quotes=PgProrationQuotes(pool),
        budget=budget_from_settings(pool, SCHEMA, settings),
        self_service=PgSelfServiceReader(pool),
        self_service_gateway=self_service_gateway or build_self_service_gateway(settings, gateway),
        trial_extensions=PgTrialExtensions(pool),
        trial_max_extension_days=settings.trial_max_extension_days,
        queue=PgPaymentQueueReader(pool),
    )


def lifespan_for(
    settings: BillingSettings,
    bus: MessageBus | None = None,
    *,
    gateway: PaymentGateway | None = None,
    clock: Clock | None = None,
) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_infrastructure(app, schema=SCHEMA, settings=settings, bus=bus) as infra:
            app.state.infrastructure = infra
            context = build_context(
                infra.pool,
                gateway or build_gateway(settings),
                clock or SystemClock(),
                settings=settings,
                wake_relay=infra.relay.wake,
            )
            install_context(app, context)
            await infra.bus.subscribe(
                queue_name(settings.billing_exchange),
                list(BINDING_KEYS),
                billing_event_handler(context.uow_factory, context.gateway, context.clock),
                prefetch=PREFETCH,
                delivery_limit=DELIVERY_LIMIT,
            )
            yield

    return lifespan


async def run_reconcile(
    settings: BillingSettings,
    tenant_id: str | None = None,
    *,
    limit: int | None = None,
    gateway: PaymentGateway | None = None,
    clock: Clock | None = None,
) -> ReconcileReport:
    """``billing reconcile [--tenant T]``: repair the projection from Stripe, then exit.

    Events of repaired tenants go to the outbox; the service's relay publishes them.
    """
    settings.require("database_url")
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        context = build_context(
            pool, gateway or build_gateway(settings), clock or SystemClock(), settings=settings
        )
        return await reconcile(
            tenant_id,
            reader=context.reader,
            uow_factory=context.uow_factory,
            gateway=context.gateway,
            clock=context.clock,
            limit=limit,
            # with a stand-in gateway and no Stripe key (tests), the wallet is not re-read
            self_service=context.self_service_gateway
            if gateway is None or settings.stripe_api_key
            else None,
        )
    finally:
        await pool.close()
