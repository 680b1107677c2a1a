"""The one place that builds this service's adapters and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from billing_platform.clock import SystemClock
from billing_platform.http.app import Lifespan
from billing_platform.http.context import install_context
from billing_platform.messaging.message import MessageBus
from billing_platform.runtime import service_infrastructure
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

from analytics.adapters.postgres import PgAnalyticsUnitOfWork, PgMetricsReader
from analytics.consumer import (
    BINDING_KEYS,
    DELIVERY_LIMIT,
    PREFETCH,
    billing_event_handler,
    queue_name,
)
from analytics.context import AnalyticsContext
from analytics.kpi_gauges import run_kpi_gauges
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
