"""A service's infrastructure: readiness follows the real database."""

from collections.abc import Callable
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_domain.envelope import IntegrationEvent
from billing_platform.http.app import create_app
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.messaging.outbox import OutboxWriter
from billing_platform.runtime import service_infrastructure
from billing_platform.settings import BillingSettings
from billing_platform.testing.connections import pooled
from billing_platform.testing.tcp_proxy import proxy_database
from billing_platform.testing.waiting import wait_until
from fastapi import FastAPI

pytestmark = pytest.mark.integration


async def test_readyz_turns_503_when_the_database_is_unreachable(
    database_url: str, schema: str
) -> None:
    proxy, proxied = await proxy_database(database_url)
    settings = BillingSettings(database_url=proxied, jwt_secret="j" * 32)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        async with (
            InMemoryBus() as bus,
            service_infrastructure(app, schema=schema, settings=settings, bus=bus),
        ):
            yield

    app = create_app(service="probe", settings=settings, lifespan=lifespan)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/readyz")).status_code == 200
            await proxy.cut()
            down = await client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["checks"] == {"database": "unavailable", "broker": "ok"}
            assert (await client.get("/healthz")).status_code == 200
            await proxy.restore()
            assert await wait_until(lambda: _ready(client), timeout=10), (
                "readiness did not recover after the database came back"
            )
    await proxy.close()


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def test_relay_started_by_the_infrastructure_publishes_to_the_bus(
    database_url: str, schema: str, make_event: Callable[[int], IntegrationEvent]
) -> None:
    settings = BillingSettings(database_url=database_url)
    app = FastAPI()
    app.state.readiness_checks = {}
    async with (
        InMemoryBus() as bus,
        service_infrastructure(app, schema=schema, settings=settings, bus=bus) as infra,
    ):
        async with infra.pool.acquire() as conn, conn.transaction():
            await OutboxWriter(pooled(conn), schema).add(make_event(1), make_event(2))
        assert await wait_until(lambda: len(bus.published) == 2, timeout=5)
    # Leaving the block stopped the relay gracefully: the batch it published is marked sent.
    direct = await asyncpg.connect(database_url)
    unsent = await direct.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL")
    await direct.close()
    assert unsent == 0
