"""Transient failures on real RabbitMQ: the slow lane, never the delivery limit."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from billing_domain.errors import GatewayUnavailable
from billing_platform.messaging.dead_letters import queue_depth
from billing_platform.messaging.message import IncomingMessage, OutgoingMessage
from billing_platform.messaging.rabbitmq import RabbitMQBus, dead_letter_queue
from billing_platform.messaging.retry_lane import (
    ATTEMPTS_HEADER,
    TRANSIENT_RETRIES,
    delay_queue,
)
from billing_platform.testing.waiting import wait_until

pytestmark = pytest.mark.integration

DELAYS = (1, 2)


def _message(n: int) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=str(uuid.uuid4()),
        routing_key="billing.test.applied",
        body=json.dumps({"n": n}).encode(),
    )


async def _depth(amqp_url: str, queue: str) -> int | None:
    connection = await aio_pika.connect(amqp_url)
    try:
        return await queue_depth(await connection.channel(), queue)
    finally:
        await connection.close()


@pytest.fixture
async def lane_bus(amqp_url: str, exchange_name: str) -> AsyncIterator[RabbitMQBus]:
    bus = RabbitMQBus(amqp_url, exchange=exchange_name, retry_delays_s=DELAYS)
    await bus.connect()
    yield bus
    await bus.close()


async def test_an_outage_longer_than_the_delivery_limit_applies_the_message_once(
    amqp_url: str, exchange_name: str, lane_bus: RabbitMQBus
) -> None:
    """Five transient failures with a delivery limit of 2: the message is never
    dead-lettered, each retry waits its tier (no hot loop), it is applied once with
    its routing key, and a message behind it is not held up."""
    queue = f"{exchange_name}.outage"
    failures = [
        OSError("connection refused"),
        GatewayUnavailable("Stripe is down"),
        TimeoutError(),
        ConnectionResetError(),
        OSError("connection refused"),
    ]
    seen: list[tuple[int, float, str, int]] = []
    applied: list[int] = []
    before = TRANSIENT_RETRIES.labels(queue)._value.get()

    async def handler(message: IncomingMessage) -> None:
        n = message.json()["n"]
        seen.append((n, time.monotonic(), message.routing_key, message.delivery_count))
        if n == 1 and failures:
            raise failures.pop(0)
        applied.append(n)

    await lane_bus.subscribe(queue, ["billing.test.#"], handler, delivery_limit=2)
    await lane_bus.publish(_message(1))
    await lane_bus.publish(_message(2))
    assert await wait_until(lambda: 1 in applied, timeout=30), seen
    assert await wait_until(lambda: 2 in applied, timeout=5)
    assert sorted(applied) == [1, 2]  # each once

    ones = [s for s in seen if s[0] == 1]
    assert len(ones) == 6
    gaps = [later[1] - earlier[1] for earlier, later in itertools.pairwise(ones)]
    assert all(gap >= 0.9 for gap in gaps), gaps  # 1 s, then 2 s tiers: no hot loop
    assert sum(gaps) >= 1 + 2 * 4 - 0.5
    assert {s[2] for s in ones} == {"billing.test.applied"}
    assert {s[3] for s in ones} == {0}  # a fresh message each time: nothing counted
    assert seen.index(next(s for s in seen if s[0] == 2)) == 1  # not behind the failing one
    assert TRANSIENT_RETRIES.labels(queue)._value.get() - before == 5
    assert await _depth(amqp_url, dead_letter_queue(queue)) == 0
    for seconds in DELAYS:
        assert await _depth(amqp_url, delay_queue(queue, seconds)) == 0


async def test_a_permanent_error_still_goes_to_the_dead_letter_queue(
    amqp_url: str, exchange_name: str, lane_bus: RabbitMQBus
) -> None:
    queue = f"{exchange_name}.permanent"
    attempts: list[int] = []
    before = TRANSIENT_RETRIES.labels(queue)._value.get()

    async def handler(message: IncomingMessage) -> None:
        attempts.append(message.delivery_count)
        raise KeyError("plan")  # a bug: retrying later changes nothing

    await lane_bus.subscribe(queue, ["billing.test.#"], handler, delivery_limit=2)
    await lane_bus.publish(_message(1))

    async def dead_lettered() -> bool:
        return await _depth(amqp_url, dead_letter_queue(queue)) == 1

    assert await wait_until(dead_lettered, timeout=20)
    assert 2 <= len(attempts) <= 3
    assert TRANSIENT_RETRIES.labels(queue)._value.get() == before
    for seconds in DELAYS:
        assert await _depth(amqp_url, delay_queue(queue, seconds)) == 0


@pytest.mark.parametrize("forged", [-7, "lots", 10**12, 3.5])
async def test_a_forged_attempts_header_neither_breaks_nor_skips_the_lane(
    amqp_url: str, exchange_name: str, lane_bus: RabbitMQBus, forged: object
) -> None:
    """Hostile input: a publisher setting the lane's own counter. The message is still
    postponed within the lane's tiers and applied once the outage ends."""
    queue = f"{exchange_name}.forged"
    seen: list[float] = []

    async def handler(message: IncomingMessage) -> None:
        seen.append(time.monotonic())
        if len(seen) == 1:
            raise ConnectionRefusedError()

    await lane_bus.subscribe(queue, ["billing.test.#"], handler, delivery_limit=2)
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(exchange_name)
        await exchange.publish(
            aio_pika.Message(
                body=b'{"n": 1}',
                message_id=str(uuid.uuid4()),
                headers={ATTEMPTS_HEADER: forged},  # type: ignore[dict-item]
            ),
            routing_key="billing.test.forged",
        )
    finally:
        await connection.close()
    assert await wait_until(lambda: len(seen) == 2, timeout=15)
    assert 0.9 <= seen[1] - seen[0] <= 2 + 1.5  # a tier of the lane, never beyond its cap
    assert await _depth(amqp_url, dead_letter_queue(queue)) == 0
