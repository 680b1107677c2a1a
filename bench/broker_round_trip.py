"""The broker's own floor: aio-pika publish (persistent, with confirm) -> consume -> ack.

Same exchange type, queue type (durable quorum) and prefetch (16) as the
platform's bus, at a fixed rate, publisher and consumer in this process:
latency = delivery to the consumer - start of the publish. Also deletes the
RabbitMQ objects a benchmark declared (``delete_broker_objects``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import aio_pika

from bench.projection_probe import PipelineResult


async def broker_round_trip(amqp_url: str, *, rate: float, seconds: float) -> PipelineResult:
    name = f"bench.rt.{uuid.uuid4().hex[:8]}"
    total = int(rate * seconds)
    result = PipelineResult("RabbitMQ publish -> consume round trip", sent=total)
    started: dict[str, float] = {}
    all_in = asyncio.Event()
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        publisher = await connection.channel(publisher_confirms=True)
        exchange = await publisher.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
        consumer = await connection.channel()
        await consumer.set_qos(prefetch_count=16)
        queue = await consumer.declare_queue(
            name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.bind(name, routing_key="#")

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            result.latencies.append(time.perf_counter() - started[str(message.message_id)])
            await message.ack()
            if len(result.latencies) >= total:
                all_in.set()

        await queue.consume(on_message)

        async def publish(n: int) -> None:
            message_id = str(n)
            started[message_id] = time.perf_counter()
            await exchange.publish(
                aio_pika.Message(
                    b'{"bench": true}',
                    message_id=message_id,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="bench.subscription.updated",
            )

        begin = time.perf_counter()
        tasks = []
        for n in range(total):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(publish(n)))
        await asyncio.gather(*tasks)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_in.wait(), 10)
        result.seconds = time.perf_counter() - begin
        result.missing = total - len(result.latencies)
    finally:
        await connection.close()
    await delete_broker_objects(amqp_url, queues=[name], exchanges=[name])
    return result


async def delete_broker_objects(amqp_url: str, *, queues: list[str], exchanges: list[str]) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        for queue in queues:
            with contextlib.suppress(Exception):
                channel = await connection.channel()
                await channel.queue_delete(queue)
                await channel.close()
        for exchange in exchanges:
            with contextlib.suppress(Exception):
                channel = await connection.channel()
                await channel.exchange_delete(exchange)
                await channel.close()
    finally:
        await connection.close()
