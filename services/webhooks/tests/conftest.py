"""Shared fixtures of the webhooks tests: the fakes, builders and signing of
``webhooks.testing`` as fixtures, the migrated database and the running app."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_domain.clock import Clock
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings
from billing_platform.testing.clock import FakeClock
from webhooks.main import create_app
from webhooks.schema import MIGRATIONS
from webhooks.testing import (
    OLD_SECRET,
    PRICES,
    SECRET,
    Builders,
    FakeStripeReader,
    FakeWorld,
    RunningWebhooks,
    Signer,
    StartWebhooks,
    signed_headers,
)


@pytest.fixture
def build() -> type[Builders]:
    return Builders


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))  # signatures are checked against the wall clock


@pytest.fixture
def fake_stripe() -> FakeStripeReader:
    return FakeStripeReader()


@pytest.fixture
def signer() -> Signer:
    return signed_headers


@pytest.fixture
def encode() -> Callable[[Mapping[str, Any]], bytes]:
    return lambda event: json.dumps(event).encode()


@pytest.fixture(scope="session")
async def webhooks_database(database_url: str) -> str:
    await upgrade_async([MIGRATIONS], database_url)
    return database_url


@pytest.fixture
def world(fake_clock: FakeClock, fake_stripe: FakeStripeReader) -> FakeWorld:
    return FakeWorld(fake_clock, fake_stripe)


async def _count_rows(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM webhooks.stripe_webhook_events_log")
        return count
    finally:
        await conn.close()


async def _fetch_row(database_url: str, event_id: str) -> Mapping[str, Any] | None:
    conn = await asyncpg.connect(database_url)
    try:
        row: asyncpg.Record | None = await conn.fetchrow(
            "SELECT * FROM webhooks.stripe_webhook_events_log WHERE event_id = $1", event_id
        )
        return None if row is None else dict(row)
    finally:
        await conn.close()


async def _truncate(database_url: str) -> None:
    """Tests share one database: each starts from an empty log."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "TRUNCATE webhooks.stripe_webhook_events_log, webhooks.customer_tenants, "
            "webhooks.outbox, webhooks.inbox"
        )
    finally:
        await conn.close()


@pytest.fixture
def start_webhooks(
    webhooks_database: str, amqp_url: str, exchange_name: str, fake_stripe: FakeStripeReader
) -> StartWebhooks:
    """``async with start_webhooks(**overrides) as running:`` (settings and create_app kwargs)."""

    @contextlib.asynccontextmanager
    async def start(
        *,
        database_url: str | None = None,
        amqp: str | None = None,
        clock: Clock | None = None,
        worker_concurrency: int = 2,
        truncate: bool = True,
    ) -> AsyncIterator[RunningWebhooks]:
        settings = BillingSettings(
            database_url=database_url or webhooks_database,
            amqp_url=amqp or amqp_url,
            billing_exchange=exchange_name,
            stripe_webhook_secret=[SECRET, OLD_SECRET],
            stripe_price_solo=PRICES["solo"],
            stripe_price_team=PRICES["team"],
            stripe_price_enterprise=PRICES["enterprise"],
            jwt_secret="j" * 32,
            webhook_worker_concurrency=worker_concurrency,
        )
        if truncate:
            await _truncate(webhooks_database)
        app = create_app(settings, clock=clock, stripe=fake_stripe)
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://webhooks") as client:
                yield RunningWebhooks(
                    app=app,
                    client=client,
                    database_url=webhooks_database,
                    count_rows=lambda: _count_rows(webhooks_database),
                    fetch_row=lambda event_id: _fetch_row(webhooks_database, event_id),
                )

    return start
