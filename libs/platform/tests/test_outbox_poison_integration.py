"""A poison outbox row (one the broker refuses while it confirms the others) no longer
holds the relay back: it waits its own backoff, the rows behind it flow, and after
``max_rejections`` it is parked and counted. A broker that confirms nothing parks nothing.

Issue 15 item 10: before, every batch began with the poison row, failed as a whole and
backed the relay off, so every event behind it waited, for ever.
"""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest
from billing_domain.envelope import IntegrationEvent
from billing_platform.messaging.message import OutgoingMessage
from billing_platform.messaging.outbox import OutboxWriter
from billing_platform.messaging.rabbitmq import RabbitMQBus
from billing_platform.messaging.relay import OutboxRelay, RelayPublishError
from billing_platform.testing.collector import EventCollector
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration


class RefusingPublisher:
    """The real broker, except that it refuses the messages in ``refused`` (all: down)."""

    def __init__(self, bus: RabbitMQBus, refused: set[str] | None = None) -> None:
        self._bus = bus
        self.refused = refused  # None: every message

    async def publish(self, message: OutgoingMessage) -> None:
        if self.refused is None or message.message_id in self.refused:
            raise RuntimeError("NACK: message refused by the broker")
        await self._bus.publish(message)


async def _write(pool: asyncpg.Pool, schema: str, events: list[IntegrationEvent]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await OutboxWriter(conn, schema).add_all(events)  # type: ignore[arg-type]  # a pool proxy


async def _row(pool: asyncpg.Pool, schema: str, message_id: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        f"SELECT sent_at, rejections, next_attempt_at > now() AS waiting, parked_at, last_error "
        f"FROM {schema}.outbox WHERE message_id = $1",
        message_id,
    )
    assert row is not None
    return row


def _parked(schema: str) -> float:
    value = REGISTRY.get_sample_value("billing_outbox_parked_total", {"schema": schema})
    return value or 0.0


async def test_a_poison_row_waits_alone_and_the_rows_behind_it_flow(
    make_event: Callable[[int], IntegrationEvent],
    pool: asyncpg.Pool,
    schema: str,
    rabbit_bus: RabbitMQBus,
    amqp_url: str,
    exchange_name: str,
) -> None:
    poison, *good = [make_event(n) for n in range(6)]
    relay = OutboxRelay(pool, schema, RefusingPublisher(rabbit_bus, {str(poison.id)}))
    async with EventCollector(amqp_url, exchange_name) as collector:
        await _write(pool, schema, [poison, *good])  # the poison row first, as it was
        assert await relay.publish_pending() == 5  # no RelayPublishError: progress was made
        later = [make_event(n) for n in range(10, 13)]
        await _write(pool, schema, later)
        assert await relay.publish_pending() == 3  # the poison row is not in this batch
        await collector.wait_for(8)
    assert str(poison.id) not in collector.ids()
    row = await _row(pool, schema, str(poison.id))
    assert (row["sent_at"], row["rejections"], row["waiting"], row["parked_at"]) == (
        None,
        1,
        True,
        None,
    )
    assert "NACK" in row["last_error"]


async def test_a_row_refused_max_rejections_times_is_parked_and_counted(
    make_event: Callable[[int], IntegrationEvent],
    pool: asyncpg.Pool,
    schema: str,
    rabbit_bus: RabbitMQBus,
) -> None:
    poison = make_event(0)
    relay = OutboxRelay(
        pool, schema, RefusingPublisher(rabbit_bus, {str(poison.id)}), max_rejections=3
    )
    await _write(pool, schema, [poison])
    parked_before = _parked(schema)
    for round_ in range(3):
        await _write(pool, schema, [make_event(100 + round_)])  # a good row beside it
        await pool.execute(f"UPDATE {schema}.outbox SET next_attempt_at = NULL")  # time passes
        assert await relay.publish_pending() == 1
    row = await _row(pool, schema, str(poison.id))
    assert row["rejections"] == 3
    assert row["parked_at"] is not None
    assert _parked(schema) == parked_before + 1
    await pool.execute(f"UPDATE {schema}.outbox SET next_attempt_at = NULL")
    assert await relay.publish_pending() == 0  # parked: never claimed again
    assert (await _row(pool, schema, str(poison.id)))["sent_at"] is None


async def test_a_broker_that_confirms_nothing_parks_nothing(
    make_event: Callable[[int], IntegrationEvent],
    pool: asyncpg.Pool,
    schema: str,
    rabbit_bus: RabbitMQBus,
) -> None:
    events = [make_event(n) for n in range(4)]
    relay = OutboxRelay(pool, schema, RefusingPublisher(rabbit_bus), max_rejections=1)
    await _write(pool, schema, events)
    for _ in range(3):
        with pytest.raises(RelayPublishError):
            await relay.publish_pending()
    for event in events:
        row = await _row(pool, schema, str(event.id))
        assert (row["rejections"], row["parked_at"], row["sent_at"]) == (0, None, None)
    # The broker is back: everything goes at once.
    assert await OutboxRelay(pool, schema, rabbit_bus).publish_pending() == 4
