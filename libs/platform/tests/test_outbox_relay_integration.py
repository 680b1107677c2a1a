"""Outbox + relay against the real Postgres and RabbitMQ."""

import asyncio
import contextlib
import json
from collections.abc import Callable

import aio_pika
import asyncpg
import pytest
from billing_domain.envelope import IntegrationEvent
from billing_platform.messaging.message import OutgoingMessage
from billing_platform.messaging.outbox import OutboxWriter
from billing_platform.messaging.rabbitmq import RabbitMQBus
from billing_platform.messaging.relay import OutboxRelay
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.connections import pooled
from billing_platform.testing.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration


async def _write(pool: asyncpg.Pool, schema: str, events: list[IntegrationEvent]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await OutboxWriter(pooled(conn), schema).add_all(events)


async def _unsent(pool: asyncpg.Pool, schema: str) -> int:
    return int(await pool.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL"))


async def test_rows_written_in_a_rolled_back_transaction_are_never_published(
    make_event: Callable[[int], IntegrationEvent], pool: asyncpg.Pool, schema: str
) -> None:
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await OutboxWriter(pooled(conn), schema).add(make_event(1))
        await tx.rollback()
    assert await pool.fetchval(f"SELECT count(*) FROM {schema}.outbox") == 0


async def test_relay_publishes_with_the_contract_envelope(
    make_event: Callable[[int], IntegrationEvent],
    pool: asyncpg.Pool,
    schema: str,
    rabbit_bus: RabbitMQBus,
    amqp_url: str,
    exchange_name: str,
) -> None:
    events = [make_event(n) for n in range(5)]
    async with EventCollector(amqp_url, exchange_name) as collector:
        await _write(pool, schema, events)
        assert await OutboxRelay(pool, schema, rabbit_bus).publish_pending() == 5
        await collector.wait_for(5)
    assert sorted(collector.ids()) == sorted(str(e.id) for e in events)
    first = collector.messages[0]
    body = json.loads(first.body)
    assert first.routing_key == "billing.test.pinged"
    assert first.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert set(body) == {
        "id",
        "type",
        "schema_version",
        "occurred_at",
        "tenant_id",
        "source",
        "causation_id",
        "data",
    }
    assert body["id"] == first.message_id
    assert await _unsent(pool, schema) == 0


async def test_broker_unreachable_then_back_publishes_everything_once(
    make_event: Callable[[int], IntegrationEvent],
    pool: asyncpg.Pool,
    schema: str,
    amqp_url: str,
    exchange_name: str,
) -> None:
    """Rows written while the relay cannot reach the broker wait, then go out once."""
    host_port = amqp_url.rsplit("@", 1)[1].split("/")[0]
    host, port = host_port.split(":")
    proxy = TcpProxy(host, int(port))
    proxy_port = await proxy.start()
    proxied_url = amqp_url.replace(host_port, f"127.0.0.1:{proxy_port}")
    bus = RabbitMQBus(proxied_url, exchange=exchange_name)
    relay = OutboxRelay(pool, schema, bus, poll_interval=0.1, max_backoff=0.5)
    stop = asyncio.Event()
    async with EventCollector(amqp_url, exchange_name) as collector:
        await proxy.cut()
        task = asyncio.create_task(relay.run(stop))
        events = [make_event(n) for n in range(20)]
        await _write(pool, schema, events)
        await asyncio.sleep(1.5)  # the relay tries, fails, backs off
        assert collector.messages == []
        assert await _unsent(pool, schema) == 20
        attempts = await pool.fetchval(f"SELECT max(attempts) FROM {schema}.outbox")
        await proxy.restore()
        await collector.wait_for(20)
        await asyncio.sleep(0.5)  # anything extra would arrive now
        stop.set()
        await asyncio.wait_for(task, 10)
    await bus.close()
    await proxy.close()
    assert sorted(collector.ids()) == sorted(str(e.id) for e in events)
    assert await _unsent(pool, schema) == 0
    assert attempts >= 1  # it did try while the broker was unreachable


async def test_two_relays_publish_each_row_exactly_once(
    make_event: Callable[[int], IntegrationEvent],
    pool: asyncpg.Pool,
    schema: str,
    amqp_url: str,
    exchange_name: str,
) -> None:
    buses = [RabbitMQBus(amqp_url, exchange=exchange_name) for _ in range(2)]
    relays = [OutboxRelay(pool, schema, bus, batch_size=7, poll_interval=0.05) for bus in buses]
    stop = asyncio.Event()
    async with EventCollector(amqp_url, exchange_name) as collector:
        tasks = [asyncio.create_task(relay.run(stop)) for relay in relays]
        events = [make_event(n) for n in range(300)]
        for chunk in range(0, 300, 30):
            await _write(pool, schema, events[chunk : chunk + 30])
        await collector.wait_for(300)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks)
    for bus in buses:
        await bus.close()
    ids = collector.ids()
    assert len(ids) == 300
    assert len(set(ids)) == 300
    assert await _unsent(pool, schema) == 0


async def test_unconfirmed_publish_leaves_rows_unsent(
    make_event: Callable[[int], IntegrationEvent], pool: asyncpg.Pool, schema: str
) -> None:
    class RefusingPublisher:
        def __init__(self) -> None:
            self.calls = 0

        async def publish(self, message: OutgoingMessage) -> None:
            self.calls += 1
            if message.message_id.endswith(("0", "2", "4", "6", "8")):
                raise ConnectionError("nacked")

    events = [make_event(n) for n in range(10)]
    await _write(pool, schema, events)
    relay = OutboxRelay(pool, schema, RefusingPublisher())
    with contextlib.suppress(Exception):
        await relay.publish_pending()
    rows = await pool.fetch(f"SELECT message_id, sent_at, last_error FROM {schema}.outbox")
    for row in rows:
        if row["message_id"].endswith(("0", "2", "4", "6", "8")):
            assert row["sent_at"] is None
            assert "nacked" in row["last_error"]
        else:
            assert row["sent_at"] is not None


async def test_one_add_stores_the_events_in_their_order_and_once(
    make_event: Callable[[int], IntegrationEvent], pool: asyncpg.Pool, schema: str
) -> None:
    events = [make_event(n) for n in range(12)]
    await _write(pool, schema, events)
    await _write(pool, schema, events[:3])  # the same ids again: nothing added
    rows = await pool.fetch(f"SELECT message_id, tenant_id, body FROM {schema}.outbox ORDER BY id")
    assert [row["message_id"] for row in rows] == [str(e.id) for e in events]
    assert [row["tenant_id"] for row in rows] == [e.tenant_id for e in events]
    assert rows[5]["body"]["data"]["n"] == 5
