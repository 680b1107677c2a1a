"""The monitor's figures on real Postgres: what the worker's gauges export
(billing_webhooks_events{status}, the backlog and the oldest waiting age)."""

from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from billing_platform.db import create_pool
from billing_platform.testing.clock import FakeClock
from webhooks.adapters.postgres import PgEventLogMonitor, PgStripeEventStore
from webhooks.testing import Builders

pytestmark = pytest.mark.integration

_TRUNCATE = "TRUNCATE webhooks.stripe_webhook_events_log, webhooks.outbox"


@pytest.fixture
async def pool(webhooks_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(webhooks_database, max_size=2)
    await pool.execute(_TRUNCATE)
    yield pool
    await pool.execute(_TRUNCATE)
    await pool.close()


async def test_counts_by_status_leave_processed_out(
    pool: asyncpg.Pool, build: type[Builders], fake_clock: FakeClock
) -> None:
    monitor = PgEventLogMonitor(pool)
    assert await monitor.count_by_status() == {}
    store = PgStripeEventStore(pool)
    statuses = ["pending", "retrying", "failed", "failed", "parked", "processed", "processed"]
    for n, status in enumerate(statuses):
        event = build.event("invoice.paid", build.invoice(tenant=f"t{n}"))
        assert await store.add(build.new_stripe_event(event), fake_clock.now())
        await pool.execute(
            "UPDATE webhooks.stripe_webhook_events_log SET status = $2, received_at = $3 "
            "WHERE event_id = $1",
            event["id"],
            status,
            fake_clock.now() - timedelta(minutes=n),
        )
    assert await monitor.count_by_status() == {
        "pending": 1,
        "retrying": 1,
        "failed": 2,
        "parked": 1,
    }
    waiting, oldest, _ = await monitor.backlog()
    assert waiting == 2
    assert oldest > 50  # the retrying one was received a minute before the pending one
