"""Dead letters on the real RabbitMQ: a poison message lands in the consumer's DLQ, is
listed (and stays), is replayed after the fix with its message id (applied once, a
second replay deduped by the inbox), and the depth gauges see it come and go."""

import json
import uuid
from datetime import UTC, datetime

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import FieldValue
from aio_pika.exceptions import DeliveryError
from billing_platform.backlog_gauges import BrokerDepthSampler, sample_outbox_age
from billing_platform.db import PgUnitOfWork
from billing_platform.messaging.dead_letters import (
    DeadLetterQueueMissingError,
    list_dead_letters,
    replay_dead_letters,
)
from billing_platform.messaging.inbox import idempotent_handler
from billing_platform.messaging.message import (
    IncomingMessage,
    MessageHandler,
    OutgoingMessage,
    PoisonMessage,
)
from billing_platform.messaging.rabbitmq import RabbitMQBus, dead_letter_exchange
from billing_platform.metrics import DLQ_DEPTH, OUTBOX_OLDEST_UNSENT_AGE
from billing_platform.testing.waiting import wait_until

pytestmark = pytest.mark.integration

KEY = "billing.subscription.updated"


def _envelope(tenant: str) -> bytes:
    return json.dumps(
        {"id": str(uuid.uuid4()), "type": "subscription.updated", "tenant_id": tenant,
         "source": "webhooks", "data": {"n": 1}}
    ).encode()  # fmt: skip


class Consumer:
    """Applies messages through the inbox; raises ``PoisonMessage`` while ``broken``."""

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool, self.schema, self.broken = pool, schema, True

    def handler(self) -> MessageHandler:
        async def apply(uow: PgUnitOfWork, message: IncomingMessage) -> None:
            if self.broken:
                raise PoisonMessage("cannot apply (the bug)")
            await uow.connection.execute(
                f"INSERT INTO {self.schema}.applied VALUES ($1)", message.message_id
            )

        return idempotent_handler(lambda: PgUnitOfWork(self.pool), self.schema, apply)

    async def applied(self) -> list[str]:
        rows = await self.pool.fetch(f"SELECT message_id FROM {self.schema}.applied")
        return [r["message_id"] for r in rows]


@pytest.fixture
async def consumer(pool: asyncpg.Pool, schema: str) -> Consumer:
    await pool.execute(f"CREATE TABLE {schema}.applied (message_id text)")
    return Consumer(pool, schema)


async def _dead_letter_directly(
    amqp_url: str,
    exchange: str,
    queue: str,
    body: bytes,
    message_id: str,
    original_key: str | None = None,
) -> None:
    """Into the DLQ the way the broker dead-letters (through the DLX, keyed by queue),
    with an ``x-death`` record like the broker's when ``original_key`` is given."""
    death: dict[str, FieldValue] = {
        "count": 1,
        "reason": "delivery_limit",
        "queue": queue,
        "exchange": exchange,
        "routing-keys": [original_key],
        "time": datetime.now(UTC).replace(microsecond=0),
    }
    headers: dict[str, FieldValue] = {"x-death": [death]} if original_key else {}
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        dlx = await channel.get_exchange(dead_letter_exchange(exchange))
        message = aio_pika.Message(body, message_id=message_id, headers=headers)
        await dlx.publish(message, routing_key=queue)


async def test_poison_message_listed_then_replayed_after_the_fix_is_applied_once(
    amqp_url: str, exchange_name: str, rabbit_bus: RabbitMQBus, consumer: Consumer
) -> None:
    queue = f"{exchange_name}.projection"
    await rabbit_bus.subscribe(queue, ["billing.subscription.#"], consumer.handler())
    message_id = str(uuid.uuid4())
    body = _envelope("tenant_dlq")
    await rabbit_bus.publish(OutgoingMessage(message_id=message_id, routing_key=KEY, body=body))

    async def dead_lettered() -> bool:
        return len(await list_dead_letters(amqp_url, queue)) == 1

    assert await wait_until(dead_lettered, timeout=10)
    sampler = BrokerDepthSampler(amqp_url, exchange_name)
    try:
        assert (await sampler.sample())[queue] == (0, 1)
        assert DLQ_DEPTH.labels(queue)._value.get() == 1
        [letter] = await list_dead_letters(amqp_url, f"{queue}.dlq")  # either name works
        assert (letter.message_id, letter.routing_key, letter.body) == (message_id, KEY, body)
        assert (letter.type, letter.tenant_id, letter.source) == (
            "subscription.updated",
            "tenant_dlq",
            "webhooks",
        )
        assert (letter.reason, letter.death_count) == ("rejected", 1)
        assert letter.first_death_at is not None
        assert await consumer.applied() == []

        consumer.broken = False  # the fix is deployed
        replayed = await replay_dead_letters(
            amqp_url, exchange_name, queue, message_ids={message_id}
        )
        assert [r.message_id for r in replayed] == [message_id]

        async def applied_once() -> bool:
            return await consumer.applied() == [message_id]

        assert await wait_until(applied_once, timeout=10)
        assert await list_dead_letters(amqp_url, queue) == []
        assert (await sampler.sample())[queue] == (0, 0)

        # The same message dead-lettered again (a copy), replayed: the inbox drops it.
        await _dead_letter_directly(amqp_url, exchange_name, queue, body, message_id, KEY)
        await rabbit_bus.publish(  # a marker behind it: once applied, the copy was seen
            OutgoingMessage(message_id="marker", routing_key=KEY, body=_envelope("t"))
        )
        assert len(await replay_dead_letters(amqp_url, exchange_name, queue)) == 1

        async def marker_applied() -> bool:
            return "marker" in await consumer.applied()

        assert await wait_until(marker_applied, timeout=10)
        assert sorted(await consumer.applied()) == sorted([message_id, "marker"])
    finally:
        await sampler.close()


async def test_only_the_chosen_message_is_replayed_the_rest_stay(
    amqp_url: str, exchange_name: str, rabbit_bus: RabbitMQBus, consumer: Consumer
) -> None:
    queue = f"{exchange_name}.projection"
    await rabbit_bus.subscribe(queue, ["billing.subscription.#"], consumer.handler())
    ids = [str(uuid.uuid4()) for _ in range(3)]
    for message_id in ids:
        await rabbit_bus.publish(
            OutgoingMessage(message_id=message_id, routing_key=KEY, body=_envelope("t"))
        )

    async def all_dead() -> bool:
        return len(await list_dead_letters(amqp_url, queue)) == 3

    assert await wait_until(all_dead, timeout=10)
    assert sorted(d.message_id or "" for d in await list_dead_letters(amqp_url, queue)) == sorted(
        ids
    )
    consumer.broken = False
    replayed = await replay_dead_letters(amqp_url, exchange_name, queue, message_ids={ids[1]})
    assert [r.message_id for r in replayed] == [ids[1]]
    left = await list_dead_letters(amqp_url, queue)
    assert sorted(d.message_id or "" for d in left) == sorted([ids[0], ids[2]])


async def test_hostile_dead_letters_are_listed_and_never_lost(
    amqp_url: str, exchange_name: str, rabbit_bus: RabbitMQBus, consumer: Consumer
) -> None:
    queue = f"{exchange_name}.projection"
    await rabbit_bus.subscribe(queue, ["billing.subscription.#"], consumer.handler())
    # Bodies that are not an envelope; letters without x-death.
    await _dead_letter_directly(amqp_url, exchange_name, queue, b"\xff{not json", "garbled")
    await _dead_letter_directly(amqp_url, exchange_name, queue, b"[1]", "orphan")
    letters = await list_dead_letters(amqp_url, queue)
    assert [(d.message_id, d.type, d.reason, d.death_count) for d in letters] == [
        ("garbled", None, None, 0),
        ("orphan", None, None, 0),
    ]
    # Without x-death the routing key is the DLX's (the queue name): no queue is bound
    # to it on the billing exchange, so the broker returns it and the letter stays.
    with pytest.raises(DeliveryError):
        await replay_dead_letters(amqp_url, exchange_name, queue)
    left = await list_dead_letters(amqp_url, queue)
    assert sorted(d.message_id or "" for d in left) == ["garbled", "orphan"]
    with pytest.raises(DeadLetterQueueMissingError):
        await list_dead_letters(amqp_url, f"{exchange_name}.never-declared")


async def test_outbox_age_gauge_reads_the_oldest_unsent_row(
    pool: asyncpg.Pool, schema: str
) -> None:
    assert await sample_outbox_age(pool, schema) == 0.0
    await pool.execute(
        f"INSERT INTO {schema}.outbox (message_id, routing_key, body, created_at) VALUES "
        "('a', 'billing.x', '{}', now() - interval '150 seconds'), "
        "('b', 'billing.x', '{}', now() - interval '10 seconds')"
    )
    assert 149 < await sample_outbox_age(pool, schema) < 200
    assert OUTBOX_OLDEST_UNSENT_AGE.labels(schema)._value.get() > 149
    await pool.execute(f"UPDATE {schema}.outbox SET sent_at = now() WHERE message_id = 'a'")
    assert 9 < await sample_outbox_age(pool, schema) < 60
