"""Fixtures of the subscriptions tests: fakes of the ports, event builders, the migrated
database and the app (on the in-memory bus or on RabbitMQ)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aio_pika
import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_domain.clock import Clock
from billing_platform.db import create_pool
from billing_platform.http.tokens import mint_token
from billing_platform.messaging.message import MessageBus
from billing_platform.messaging.rabbitmq import dead_letter_queue
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings
from fastapi import FastAPI
from subscriptions.consumer import queue_name
from subscriptions.main import create_app
from subscriptions.ports import PaymentGateway
from subscriptions.schema import MIGRATIONS
from subscriptions.testing import AppClient, Builders, World, new_world

JWT_SECRET = "subscriptions-tests-secret-0123456789"


@pytest.fixture
def world() -> World:
    """Every fake of ``subscriptions.testing``, wired: the use cases' dependencies."""
    return new_world()


@pytest.fixture
def build() -> type[Builders]:
    return Builders


# -- database and app ---------------------------------------------------------------------


@pytest.fixture(scope="session")
async def migrated_url(database_url: str) -> str:
    await upgrade_async([MIGRATIONS], database_url)
    return database_url


@pytest.fixture
async def pool(migrated_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(migrated_url, max_size=4)
    yield created
    await created.close()


@pytest.fixture
def token() -> Callable[..., str]:
    def make(tenant_id: str, role: str = "owner", **claims: Any) -> str:
        return mint_token(JWT_SECRET, tenant_id=tenant_id, role=role, **claims)

    return make


@pytest.fixture
def settings(migrated_url: str) -> BillingSettings:
    return BillingSettings(database_url=migrated_url, jwt_secret=JWT_SECRET)


@pytest.fixture
def app_client(settings: BillingSettings) -> AppClient:
    """``async with app_client(gateway=..., clock=..., **settings) as (client, app): ...``"""

    @asynccontextmanager
    async def start(
        *,
        gateway: PaymentGateway | None = None,
        clock: Clock | None = None,
        bus: MessageBus | None = None,
        **overrides: object,
    ) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
        app = create_app(
            settings.model_copy(update=overrides), bus=bus, gateway=gateway, clock=clock
        )
        async with (
            LifespanManager(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://subscriptions.test"
            ) as client,
        ):
            yield client, app

    return start


@pytest.fixture
async def service_queue(amqp_url: str, exchange_name: str) -> AsyncIterator[str]:
    """This service's queue on the test's exchange; deleted (with its DLQ) afterwards."""
    name = queue_name(exchange_name)
    yield name
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for queue in (name, dead_letter_queue(name)):
            await channel.queue_delete(queue)
    finally:
        await connection.close()
