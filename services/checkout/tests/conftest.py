"""Fixtures of the checkout tests: the app on a migrated database, the sandbox, tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_platform.http.tokens import mint_token
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings
from checkout.main import create_app
from checkout.schema import MIGRATIONS
from checkout.testing import Running, World, new_world
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.testing import API_KEY

JWT_SECRET = "checkout-tests-secret-0123456789"
APP_BASE_URL = "http://app.test"


@pytest.fixture(scope="session")
async def migrated_url(database_url: str) -> str:
    await upgrade_async([MIGRATIONS], database_url)
    return database_url


@pytest.fixture
def new_tenant() -> Callable[[], str]:
    return lambda: f"tenant_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def token() -> Callable[..., str]:
    def make(tenant_id: str, role: str = "owner", **claims: Any) -> str:
        return mint_token(JWT_SECRET, tenant_id=tenant_id, role=role, **claims)

    return make


@pytest.fixture
def settings(
    migrated_url: str,
    stripe_sandbox: RunningSandbox,
    sandbox_prices: dict[str, str],
    sandbox_yearly_prices: dict[str, str],
) -> BillingSettings:
    return BillingSettings(
        database_url=migrated_url,
        jwt_secret=JWT_SECRET,
        stripe_api_key=API_KEY,
        stripe_api_base=stripe_sandbox.url,
        stripe_price_solo=sandbox_prices["solo"],
        stripe_price_team=sandbox_prices["team"],
        stripe_price_enterprise=sandbox_prices["enterprise"],
        stripe_price_solo_yearly=sandbox_yearly_prices["solo"],
        stripe_price_team_yearly=sandbox_yearly_prices["team"],
        stripe_price_enterprise_yearly=sandbox_yearly_prices["enterprise"],
        team_trial_days=14,
        app_base_url=APP_BASE_URL,
    )


@pytest.fixture
async def running(settings: BillingSettings) -> AsyncIterator[Running]:
    bus = InMemoryBus()
    generous = {
        "checkout_sessions_per_minute": 1000,
        "stripe_tenant_burst": 1000,
        "stripe_tenant_queue": 100,
    }
    app = create_app(settings.model_copy(update=generous), bus=bus)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://checkout") as client:
            yield Running(app, client, bus)
    await bus.close()


@pytest.fixture
async def client(running: Running) -> httpx.AsyncClient:
    return running.client


@pytest.fixture
async def sandbox_http(stripe_sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stripe_sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:
        yield http


@pytest.fixture
def auth(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def headers(tenant_id: str, role: str = "owner") -> dict[str, str]:
        return {"Authorization": f"Bearer {token(tenant_id, role)}"}

    return headers


@pytest.fixture
def world() -> World:
    """The use cases' ports, faked (``checkout.testing``), for one test."""
    return new_world()
