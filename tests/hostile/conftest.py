"""The three services in-process (ASGI) on a migrated database, Stripe through the
sandbox, an in-memory bus, and tokens good and bad, for the hostile-input suite."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_cli.gateway import DevGateway
from billing_cli.services import SERVICES
from billing_cli.testing.in_process import Running, Tokens, Webhooks, hostile_settings
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.migrations import upgrade_async
from stripe_sandbox.pytest_plugin import plan_price_ids
from stripe_sandbox.server import RunningSandbox


@pytest.fixture(scope="session")
async def hostile_database(database_url: str) -> str:
    await upgrade_async([spec.migrations for spec in SERVICES.values()], database_url)
    return database_url


@pytest.fixture(scope="module")
async def hostile_prices(stripe_sandbox: RunningSandbox) -> dict[str, str]:
    """What ``sandbox_prices`` gives, looked up once per module (the apps live that long)."""
    return await plan_price_ids(stripe_sandbox)


@pytest.fixture(scope="module")
async def running(
    hostile_database: str, stripe_sandbox: RunningSandbox, hostile_prices: dict[str, str]
) -> AsyncIterator[Running]:
    settings = hostile_settings(hostile_database, stripe_sandbox.url, hostile_prices)
    bus = InMemoryBus()
    apps = {name: spec.create_app(settings, bus=bus) for name, spec in SERVICES.items()}
    gateway = DevGateway(
        [(prefix, apps[name]) for name, spec in SERVICES.items() for prefix in spec.routes]
    )
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for name, app in apps.items():
            await stack.enter_async_context(LifespanManager(app))
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url=f"http://{name}", timeout=30
                )
            )
        through_gateway = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway),
                base_url="http://gateway",
                timeout=30,
            )
        )
        yield Running(apps, clients, through_gateway, bus, hostile_database, stripe_sandbox.url)
    await bus.close()


@pytest.fixture
async def raw(running: Running) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One client per service that turns an unhandled exception into the 500 it is
    (``raise_app_exceptions=False``): what a client would get."""
    clients = {
        name: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url=f"http://{name}",
        )
        for name, app in running.apps.items()
    }
    yield clients
    for client in clients.values():
        await client.aclose()


@pytest.fixture(scope="session")
def tokens() -> Tokens:
    return Tokens()


@pytest.fixture(scope="session")
def webhooks() -> Webhooks:
    return Webhooks()
