"""A stand-in consumer for tests: a queue of its own bound to the billing exchange,
recording every message it receives (what another product service would see).

Like a real consumer it survives a broker restart: robust connection, durable queue
(deleted when the collector closes), persistent messages wait for it meanwhile."""

from __future__ import annotations

import json
import uuid
from typing import Any, Self

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from billing_platform.testing.waiting import wait_until


class EventCollector:
    def __init__(self, amqp_url: str, exchange: str, binding_key: str = "#") -> None:
        self.amqp_url, self.exchange, self.binding_key = amqp_url, exchange, binding_key
        self.messages: list[AbstractIncomingMessage] = []
        self._connection: AbstractRobustConnection | None = None
        self._queue_name = f"{exchange}.collector.{uuid.uuid4().hex[:8]}"

    async def __aenter__(self) -> Self:
        self._connection = await aio_pika.connect_robust(self.amqp_url)
        channel = await self._connection.channel()
        exchange = await channel.declare_exchange(
            self.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(self._queue_name, durable=True)
        await queue.bind(exchange, self.binding_key)

        async def on(message: AbstractIncomingMessage) -> None:
            self.messages.append(message)
            await message.ack()

        await queue.consume(on)
        return self

    async def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        return await wait_until(lambda: len(self.messages) >= count, timeout=timeout)

    def ids(self) -> list[str]:
        return [m.message_id or "" for m in self.messages]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(m.body) for m in self.messages]

    def types(self) -> list[str]:
        return [body["type"] for body in self.bodies()]

    async def __aexit__(self, *exc: object) -> None:
        if self._connection is not None:
            channel = await self._connection.channel()
            await channel.queue_delete(self._queue_name)
            await self._connection.close()
