"""Consuming from RabbitMQ with the inbox: once-only effects, dead-lettering."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import aio_pika
import asyncpg
import pytest
from billing_platform.db import PgUnitOfWork
from billing_platform.messaging.inbox import idempotent_handler
from billing_platform.messaging.message import IncomingMessage, OutgoingMessage, PoisonMessage
from billing_platform.messaging.rabbitmq import RabbitMQBus, dead_letter_queue
from billing_platform.testing.tcp_proxy import TcpProxy
from billing_platform.testing.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def applied_table(pool: asyncpg.Pool, schema: str) -> str:
    await pool.execute(f"CREATE TABLE {schema}.applied (message_id text, n int)")
    return f"{schema}.applied"


@pytest.fixture
async def queue_name(amqp_url: str, exchange_name: str) -> AsyncIterator[str]:
    name = f"{exchange_name}.consumer"
    yield name
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    for queue in (name, dead_letter_queue(name)):
        await channel.queue_delete(queue)
    await connection.close()


def _message(n: int, message_id: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=message_id or str(uuid.uuid4()),
        routing_key="billing.test.applied",
        body=json.dumps({"n": n}).encode(),
    )


def _applier(pool: asyncpg.Pool, schema: str, table: str):  # type: ignore[no-untyped-def]
    async def apply(uow: PgUnitOfWork, message: IncomingMessage) -> None:
        await uow.connection.execute(
            f"INSERT INTO {table} VALUES ($1, $2)", message.message_id, message.json()["n"]
        )

    return idempotent_handler(lambda: PgUnitOfWork(pool), schema, apply)


async def test_redelivered_message_is_applied_once(
    pool: asyncpg.Pool, schema: str, applied_table: str, rabbit_bus: RabbitMQBus, queue_name: str
) -> None:
    await rabbit_bus.subscribe(
        queue_name, ["billing.test.#"], _applier(pool, schema, applied_table)
    )
    duplicate_id = str(uuid.uuid4())
    for _ in range(3):  # the broker delivering the same message again
        await rabbit_bus.publish(_message(1, duplicate_id))
    await rabbit_bus.publish(_message(2))
    assert await wait_until(lambda: _count(pool, applied_table, 2))
    await asyncio.sleep(0.3)
    rows = await pool.fetch(f"SELECT message_id, n FROM {applied_table} ORDER BY n")
    assert [r["n"] for r in rows] == [1, 2]
    assert rows[0]["message_id"] == duplicate_id


async def _count(pool: asyncpg.Pool, table: str, expected: int) -> bool:
    return int(await pool.fetchval(f"SELECT count(*) FROM {table}")) >= expected


async def test_consumer_lost_between_commit_and_ack_applies_once(
    pool: asyncpg.Pool,
    schema: str,
    applied_table: str,
    amqp_url: str,
    exchange_name: str,
    queue_name: str,
) -> None:
    """The first consumer commits, then its connection dies before the ack: RabbitMQ
    redelivers to the surviving consumer, whose inbox recognises the message."""
    host_port = amqp_url.rsplit("@", 1)[1].split("/")[0]
    host, port = host_port.split(":")
    proxy = TcpProxy(host, int(port))
    proxied = amqp_url.replace(host_port, f"127.0.0.1:{await proxy.start()}")
    doomed = RabbitMQBus(proxied, exchange=exchange_name)
    survivor = RabbitMQBus(amqp_url, exchange=exchange_name)
    apply = _applier(pool, schema, applied_table)
    committed = asyncio.Event()
    redeliveries: list[bool] = []

    async def commit_then_die(message: IncomingMessage) -> None:
        await apply(message)
        committed.set()
        await proxy.cut()  # the process is gone before it could ack
        await asyncio.sleep(5)

    async def survive(message: IncomingMessage) -> None:
        redeliveries.append(message.redelivered)
        await apply(message)

    await doomed.subscribe(queue_name, ["billing.test.#"], commit_then_die, prefetch=1)
    await doomed.publish(_message(7))
    await asyncio.wait_for(committed.wait(), 10)
    await survivor.subscribe(queue_name, ["billing.test.#"], survive, prefetch=1)
    assert await wait_until(lambda: bool(redeliveries), timeout=15)
    await asyncio.sleep(0.3)
    assert redeliveries == [True]
    assert await pool.fetchval(f"SELECT count(*) FROM {applied_table}") == 1
    await survivor.close()
    await proxy.close()
    await doomed.close()


async def test_failing_message_is_dead_lettered_and_the_queue_keeps_flowing(
    amqp_url: str, rabbit_bus: RabbitMQBus, queue_name: str
) -> None:
    handled: list[int] = []
    attempts: dict[int, int] = {}

    async def handler(message: IncomingMessage) -> None:
        n = message.json()["n"]
        attempts[n] = attempts.get(n, 0) + 1
        if n == 0:
            raise RuntimeError("this one never works")
        handled.append(n)

    await rabbit_bus.subscribe(queue_name, ["billing.test.#"], handler, delivery_limit=2)
    poison = _message(0)
    await rabbit_bus.publish(poison)
    for n in range(1, 6):
        await rabbit_bus.publish(_message(n))
    assert await wait_until(lambda: sorted(handled) == [1, 2, 3, 4, 5], timeout=20)

    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    dlq = await channel.declare_queue(
        dead_letter_queue(queue_name), durable=True, arguments={"x-queue-type": "quorum"}
    )
    dead: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def fetch_dead() -> bool:
        message = await dlq.get(fail=False)
        if message is not None:
            dead.append(message)
            await message.ack()
        return bool(dead)

    assert await wait_until(fetch_dead, timeout=20)
    await connection.close()
    assert dead[0].message_id == poison.message_id
    assert json.loads(dead[0].body) == {"n": 0}
    assert 2 <= attempts[0] <= 3


async def test_poison_message_goes_straight_to_the_dead_letter_queue(
    amqp_url: str, rabbit_bus: RabbitMQBus, queue_name: str, exchange_name: str
) -> None:
    """A message the handler declares poison is dead-lettered on its first delivery.

    (A message without ``message_id`` is rejected the same way before the handler
    runs; aio-pika and aiormq always set one, so no client here can send it.)"""
    attempts: list[bytes] = []

    async def handler(message: IncomingMessage) -> None:
        attempts.append(message.body)
        try:
            message.json()
        except ValueError as exc:
            raise PoisonMessage(f"not JSON: {exc}") from exc

    await rabbit_bus.subscribe(queue_name, ["billing.test.#"], handler)
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    await rabbit_bus.publish(
        OutgoingMessage(message_id="not-json", routing_key="billing.test.garbage", body=b"{oops")
    )
    dlq = await channel.get_queue(dead_letter_queue(queue_name))
    dead: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def fetch_dead() -> bool:
        message = await dlq.get(fail=False)
        if message is not None:
            dead.append(message)
            await message.ack()
        return len(dead) >= 1

    assert await wait_until(fetch_dead, timeout=10), (attempts, [m.body for m in dead])
    await connection.close()
    assert [m.body for m in dead] == [b"{oops"]
    assert attempts == [b"{oops"]
