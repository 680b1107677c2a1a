"""Ingest's wake-ups on real Postgres: this process's worker at once, other replicas by
a NOTIFY sent at most once per interval (one per event serialized commits), and a
trailing one for inserts that went without."""

import asyncio
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from billing_platform.db import create_pool
from webhooks.adapters.postgres import PgStripeEventStore
from webhooks.ports import NewStripeEvent
from webhooks.schema import EVENTS_CHANNEL

pytestmark = pytest.mark.integration


def _event() -> NewStripeEvent:
    event_id = f"evt_{uuid.uuid4().hex}"
    return NewStripeEvent(
        event_id=event_id,
        event_type="invoice.paid",
        tenant_id="tenant_a",
        api_version=None,
        livemode=False,
        stripe_created_at=datetime.now(UTC),
        payload=b'{"id": "' + event_id.encode() + b'"}',
    )


async def test_ingest_wakes_its_worker_per_new_event_and_notifies_once_per_interval(
    webhooks_database: str,
) -> None:
    pool = await create_pool(webhooks_database, max_size=2)
    listener = await asyncpg.connect(webhooks_database)
    payloads: asyncio.Queue[str] = asyncio.Queue()
    await listener.add_listener(EVENTS_CHANNEL, lambda *args: payloads.put_nowait(args[3]))
    woken: list[int] = []
    store = PgStripeEventStore(pool, on_stored=lambda: woken.append(1), notify_interval=3600)
    try:
        first, second = _event(), _event()
        assert await store.add(first, datetime.now(UTC)) is True
        assert await store.add(first, datetime.now(UTC)) is False  # a redelivery
        assert await store.add(second, datetime.now(UTC)) is True
        await listener.execute("SELECT pg_notify($1, 'marker')", EVENTS_CHANNEL)
        received = [await asyncio.wait_for(payloads.get(), 10)]
        while received[-1] != "marker":
            received.append(await asyncio.wait_for(payloads.get(), 10))
    finally:
        await listener.close()
        await pool.close()
    assert len(woken) == 2  # each new event, not the redelivery
    assert received == ["", "marker"]  # one NOTIFY for the three inserts


async def test_an_insert_that_went_without_a_notify_gets_a_trailing_one(
    webhooks_database: str,
) -> None:
    """The last events of a burst reach a worker replica at once, not at its next poll."""
    pool = await create_pool(webhooks_database, max_size=2)
    listener = await asyncpg.connect(webhooks_database)
    notified: list[float] = []
    await listener.add_listener(EVENTS_CHANNEL, lambda *args: notified.append(time.monotonic()))
    store = PgStripeEventStore(pool, notify_interval=0.3)
    try:
        started = time.monotonic()
        for _ in range(3):  # the first notifies; the other two wait for the trailing one
            assert await store.add(_event(), datetime.now(UTC)) is True
        await asyncio.sleep(1.0)
    finally:
        await listener.close()
        await pool.close()
    assert len(notified) == 2
    assert notified[1] - started >= 0.25  # not before the interval is over
