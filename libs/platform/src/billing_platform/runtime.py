"""What every service runs beside its routes: pool, bus, outbox relay, readiness.

``service_infrastructure`` is entered from a service's lifespan (its
``bootstrap``): it opens the asyncpg pool, picks the bus (the one handed in by
``billing dev``, else RabbitMQ when ``AMQP_URL`` is set, else in-memory),
starts the outbox relay of the service's schema and the backlog gauges
(``backlog_gauges``) and registers the database and broker readiness checks.
Leaving it stops the relay and closes what it opened.

Background work that must not queue behind the routes for a connection (the
webhooks worker: on one shared pool a burst of ingest requests starved
processing, bench/webhook_to_projection.py) asks for
``background_connections=N`` and uses ``infra.background_pool``: N connections
of its own, opened and closed here like the rest. With 0 it is the shared pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from fastapi import FastAPI

from billing_platform.backlog_gauges import BrokerDepthSampler, run_backlog_gauges
from billing_platform.db import create_pool, ping
from billing_platform.http.app import add_readiness_check
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.messaging.message import MessageBus
from billing_platform.messaging.rabbitmq import RabbitMQBus
from billing_platform.messaging.relay import OutboxRelay
from billing_platform.settings import BillingSettings

RELAY_STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Infrastructure:
    pool: asyncpg.Pool
    bus: MessageBus
    relay: OutboxRelay
    background_pool: asyncpg.Pool
    """Connections reserved for background work (``background_connections``), else ``pool``."""


def build_bus(settings: BillingSettings) -> MessageBus:
    if settings.amqp_url:
        return RabbitMQBus(settings.amqp_url, exchange=settings.billing_exchange)
    return InMemoryBus()


@contextlib.asynccontextmanager
async def service_infrastructure(
    app: FastAPI,
    *,
    schema: str,
    settings: BillingSettings,
    bus: MessageBus | None = None,
    background_connections: int = 0,
) -> AsyncIterator[Infrastructure]:
    settings.require("database_url")
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url)
    background_pool = (
        await create_pool(settings.database_url, max_size=background_connections)
        if background_connections > 0
        else pool
    )
    owns_bus = bus is None
    active_bus = bus if bus is not None else build_bus(settings)
    relay = OutboxRelay(pool, schema, active_bus)
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop), name=f"outbox-relay-{schema}")
    sampler = (
        BrokerDepthSampler(settings.amqp_url, settings.billing_exchange)
        if owns_bus and settings.amqp_url
        else None
    )
    gauges_task = asyncio.create_task(
        run_backlog_gauges(stop, pool, schema, sampler), name=f"backlog-gauges-{schema}"
    )

    async def database_ready() -> None:
        await ping(pool)

    async def broker_ready() -> None:
        if not await active_bus.is_ready():
            raise ConnectionError("broker unreachable")

    add_readiness_check(app, "database", database_ready)
    add_readiness_check(app, "broker", broker_ready)
    try:
        yield Infrastructure(
            pool=pool, bus=active_bus, relay=relay, background_pool=background_pool
        )
    finally:
        stop.set()  # the relay finishes the batch in flight, then returns
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(relay_task, RELAY_STOP_TIMEOUT_S)
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(gauges_task, RELAY_STOP_TIMEOUT_S)
        if owns_bus:
            await active_bus.close()
        if background_pool is not pool:
            await background_pool.close()
        await pool.close()
