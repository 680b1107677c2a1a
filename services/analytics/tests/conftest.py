"""Fixtures of the analytics tests: the app on a migrated database, tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from analytics.main import create_app
from analytics.schema import MIGRATIONS
from analytics.testing import FakeStore
from asgi_lifespan import LifespanManager
from billing_domain.auth import ADMIN_SCOPE
from billing_platform.http.tokens import mint_token
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

JWT_SECRET = "analytics-tests-secret-0123456789"
Headers = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
async def migrated_url(database_url: str) -> str:
    await upgrade_async([MIGRATIONS], database_url)
    return database_url


@pytest.fixture
def settings(migrated_url: str) -> BillingSettings:
    return BillingSettings(database_url=migrated_url, jwt_secret=JWT_SECRET)


@pytest.fixture
async def app(settings: BillingSettings) -> AsyncIterator[FastAPI]:
    bus = InMemoryBus()
    application = create_app(settings, bus=bus)
    async with LifespanManager(application):
        yield application
    await bus.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://analytics") as http:
        yield http


@pytest.fixture
def auth() -> Headers:
    def headers(tenant_id: str = "ops", role: str = "member", **claims: Any) -> dict[str, str]:
        token = mint_token(JWT_SECRET, tenant_id=tenant_id, role=role, **claims)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def operator(auth: Headers) -> dict[str, str]:
    return auth(scopes=(ADMIN_SCOPE,))


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()
