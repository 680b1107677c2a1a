"""The one place that builds this service's adapters and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial

from billing_platform.clock import SystemClock
from billing_platform.db import create_pool
from billing_platform.http.app import Lifespan
from billing_platform.http.context import install_context
from billing_platform.messaging.message import MessageBus
from billing_platform.runtime import service_infrastructure
from billing_platform.settings import BillingSettings
from billing_platform.stripe_gateway import StripeCaller
from billing_platform.stripe_reading import PriceCatalog
from fastapi import FastAPI

from analytics.adapters.postgres import PgAnalyticsUnitOfWork, PgMetricsReader
from analytics.adapters.stripe_prices import StripePriceBook
from analytics.backfill import BackfillReport, backfill_openings
from analytics.consumer import (
    BINDING_KEYS,
    DELIVERY_LIMIT,
    PREFETCH,
    billing_event_handler,
    queue_name,
)
from analytics.context import AnalyticsContext
from analytics.kpi_gauges import run_kpi_gauges
from analytics.ports import PriceBook, SubscriptionDirectory
from analytics.schema import SCHEMA


def lifespan_for(settings: BillingSettings, bus: MessageBus | None = None) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_infrastructure(app, schema=SCHEMA, settings=settings, bus=bus) as infra:
            app.state.infrastructure = infra
            uow_factory = partial(PgAnalyticsUnitOfWork, infra.pool, wake_relay=infra.relay.wake)
            clock = SystemClock()
            context = AnalyticsContext(
                uow_factory=uow_factory, reader=PgMetricsReader(infra.pool), clock=clock
            )
            install_context(app, context)
            await infra.bus.subscribe(
                queue_name(settings.billing_exchange),
                BINDING_KEYS,
                billing_event_handler(uow_factory),
                prefetch=PREFETCH,
                delivery_limit=DELIVERY_LIMIT,
            )
            stop = asyncio.Event()
            gauges = asyncio.create_task(
                run_kpi_gauges(stop, context.reader, clock), name="analytics-kpi-gauges"
            )
            try:
                yield
            finally:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(gauges, 5.0)

    return lifespan


def stripe_price_book(settings: BillingSettings) -> StripePriceBook:
    """The configured prices (``STRIPE_PRICE_<PLAN>[_YEARLY]``), read from Stripe."""
    catalog = PriceCatalog(settings.price_ids(), settings.yearly_price_ids())
    return StripePriceBook(StripeCaller.from_settings(settings), catalog)


async def run_backfill(
    settings: BillingSettings,
    directory: SubscriptionDirectory,
    prices: PriceBook,
    *,
    as_of: datetime,
) -> BackfillReport:
    """``billing analytics backfill``: open the ledger of the tenants it lacks, then exit.

    ``directory``: ``adapters.subscriptions_api.HttpSubscriptionDirectory`` (the
    subscriptions service's operators' API); ``prices``: ``stripe_price_book``."""
    settings.require("database_url")
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        return await backfill_openings(
            directory, prices, partial(PgAnalyticsUnitOfWork, pool), as_of=as_of
        )
    finally:
        await pool.close()
