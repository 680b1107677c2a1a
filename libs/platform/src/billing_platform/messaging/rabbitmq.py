"""RabbitMQ bus (aio-pika): the billing topology, confirmed publishing, safe consuming.

Topology, declared idempotently by whoever connects:
- ``<exchange>``: durable topic exchange (``billing.events``), routing key
  ``billing.<type>``;
- ``<exchange>.dlx``: durable direct exchange for dead letters;
- per consumer: a durable quorum queue with ``x-delivery-limit`` and the DLX,
  and its dead-letter queue ``<queue>.dlq`` bound to the DLX.

- per consumer queue, its slow lane (``retry_lane``): ``<queue>.retry`` and
  ``<queue>.requeue`` exchanges and one delay queue per tier.

Publishing waits for the broker's confirm, so a message the relay marks as
sent is on a durable queue. Consuming acks only after the handler returned
(its transaction committed). A handler failing is handled by the class of its
error (``billing_platform.failures``):
- transient (database, Stripe or broker down or busy): the message goes to the
  slow lane, confirmed, then the delivery is acked; it comes back after 1, 3, 10,
  30, then every 60 s for as long as the outage lasts, never counted against the
  delivery limit and never dead-lettered for it (no hot loop: the consumer is free
  for other messages meanwhile). Should the broker refuse the republish, the
  delivery is requeued (counted) instead;
- permanent (a bug, data the handler chokes on): nacked with requeue, which the
  quorum queue counts, and dead-lettered once ``delivery_limit`` is reached (a
  few deliveries, in case the "permanent" error was a fluke);
- a message that can never work (``PoisonMessage``, no ``message_id``, an event not
  from its type's one publisher: ``publishers``) is rejected straight to the DLQ.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractRobustConnection,
)

from billing_platform.failures import failure_class, is_transient
from billing_platform.messaging.message import (
    IncomingMessage,
    MessageHandler,
    OutgoingMessage,
    PoisonMessage,
)
from billing_platform.messaging.publishers import publisher_checked
from billing_platform.messaging.retry_lane import (
    RETRY_DELAYS_S,
    RetryLane,
    declare_retry_lane,
    delay_queue,
    retry_exchange,
)
from billing_platform.settings import DEFAULT_EXCHANGE

log = structlog.get_logger("billing_platform.bus.rabbitmq")

PUBLISH_TIMEOUT_S = 10.0
REQUEUE_PAUSE_S = 0.2


# Queues this process declared, per exchange: the test harness deletes a test
# exchange's queues with it (a record, not a client: no I/O at import time).
_DECLARED_QUEUES: dict[str, set[str]] = {}
_DECLARED_DELAY_QUEUES: dict[str, set[str]] = {}


def declared_queues(exchange: str) -> set[str]:
    """The consumer queues this process declared on ``exchange``."""
    return set(_DECLARED_QUEUES.get(exchange, ()))


def declared_delay_queues(exchange: str) -> set[str]:
    """Their slow lanes' delay queues (deleting them deletes the lanes' exchanges)."""
    return set(_DECLARED_DELAY_QUEUES.get(exchange, ()))


def dead_letter_exchange(exchange: str) -> str:
    return f"{exchange}.dlx"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dlq"


class RabbitMQBus:
    """One robust connection: a confirming publish channel and a channel per consumer."""

    def __init__(
        self,
        url: str,
        *,
        exchange: str = DEFAULT_EXCHANGE,
        retry_delays_s: tuple[int, ...] = RETRY_DELAYS_S,
    ) -> None:
        self._url = url
        self._retry_delays = retry_delays_s
        self._exchange_name = exchange
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._consumer_channels: list[AbstractChannel] = []
        self._connect_lock = asyncio.Lock()

    @property
    def exchange_name(self) -> str:
        return self._exchange_name

    async def connect(self, timeout: float = 5.0) -> None:
        """Connect and declare the exchanges; raises when the broker is unreachable."""
        async with self._connect_lock:
            if self._exchange is not None:
                return
            connection = await aio_pika.connect_robust(self._url, timeout=timeout)
            try:
                channel = await connection.channel(publisher_confirms=True)
                self._exchange = await self._declare_exchanges(channel)
            except BaseException:
                await connection.close()
                raise
            self._connection, self._publish_channel = connection, channel

    async def _declare_exchanges(self, channel: AbstractChannel) -> AbstractExchange:
        await channel.declare_exchange(
            dead_letter_exchange(self._exchange_name), aio_pika.ExchangeType.DIRECT, durable=True
        )
        return await channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    async def publish(self, message: OutgoingMessage) -> None:
        if self._exchange is None:
            await self.connect()
        assert self._exchange is not None
        await self._exchange.publish(
            aio_pika.Message(
                body=message.body,
                message_id=message.message_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers=dict(message.headers),
            ),
            routing_key=message.routing_key,
            timeout=PUBLISH_TIMEOUT_S,
        )

    async def declare_queue(
        self, channel: AbstractChannel, queue: str, binding_keys: list[str], delivery_limit: int
    ) -> aio_pika.abc.AbstractQueue:
        dlx = dead_letter_exchange(self._exchange_name)
        dlq = await channel.declare_queue(
            dead_letter_queue(queue), durable=True, arguments={"x-queue-type": "quorum"}
        )
        await dlq.bind(dlx, routing_key=queue)
        arguments: dict[str, Any] = {
            "x-queue-type": "quorum",
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": dlx,
            "x-dead-letter-routing-key": queue,
        }
        requeue = await declare_retry_lane(channel, queue, self._retry_delays)
        declared = await channel.declare_queue(queue, durable=True, arguments=arguments)
        _DECLARED_QUEUES.setdefault(self._exchange_name, set()).add(queue)
        _DECLARED_DELAY_QUEUES.setdefault(self._exchange_name, set()).update(
            delay_queue(queue, seconds) for seconds in self._retry_delays
        )
        await declared.bind(requeue)
        for key in binding_keys:
            await declared.bind(self._exchange_name, routing_key=key)
        return declared

    async def subscribe(
        self,
        queue: str,
        binding_keys: list[str],
        handler: MessageHandler,
        *,
        prefetch: int = 16,
        delivery_limit: int = 5,
    ) -> None:
        if self._connection is None:
            await self.connect()
        assert self._connection is not None
        assert self._publish_channel is not None
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=prefetch)
        declared = await self.declare_queue(channel, queue, binding_keys, delivery_limit)
        self._consumer_channels.append(channel)
        lane_exchange = await self._publish_channel.get_exchange(
            retry_exchange(queue), ensure=False
        )
        lane = RetryLane(queue, lane_exchange, self._retry_delays)

        checked = publisher_checked(queue, handler)  # one type, one publisher

        async def on_message(raw: AbstractIncomingMessage) -> None:
            await _deliver(queue, raw, checked, lane)

        await declared.consume(on_message, no_ack=False)

    async def is_ready(self) -> bool:
        connection = self._connection
        if connection is None:
            try:
                await self.connect(timeout=2.0)
            except Exception:
                return False
            connection = self._connection
        return (
            connection is not None
            and not connection.is_closed
            and (self._publish_channel is not None and not self._publish_channel.is_closed)
        )

    async def close(self) -> None:
        for channel in self._consumer_channels:
            if not channel.is_closed:
                await channel.close()
        self._consumer_channels.clear()
        if self._connection is not None:
            await self._connection.close()
        self._connection = self._publish_channel = self._exchange = None


async def _deliver(
    queue: str, raw: AbstractIncomingMessage, handler: MessageHandler, lane: RetryLane
) -> None:
    """Run the handler for one delivery, then ack, postpone, requeue or dead-letter it."""
    headers = raw.headers or {}
    count = headers.get("x-delivery-count", 0)
    delivery_count = count if isinstance(count, int) else 0
    bound = log.bind(queue=queue, message_id=raw.message_id, routing_key=raw.routing_key)
    if not raw.message_id:
        bound.error("bus.message.rejected", reason="no message_id")
        await raw.reject(requeue=False)
        return
    message = IncomingMessage(
        message_id=raw.message_id,
        routing_key=raw.routing_key or "",
        body=raw.body,
        redelivered=bool(raw.redelivered),
        delivery_count=delivery_count,
    )
    # bind + unbind rather than bound_contextvars(), which scans every context variable
    # on entry (as in the HTTP middleware); each delivery runs in a task of its own.
    structlog.contextvars.bind_contextvars(message_id=raw.message_id)
    try:
        await handler(message)
    except PoisonMessage as exc:
        bound.error("bus.message.rejected", reason=str(exc))
        await raw.reject(requeue=False)
    except Exception as exc:
        if is_transient(exc) and await _postponed(bound, raw, exc, lane):
            return
        bound.exception(
            "bus.message.failed", delivery_count=delivery_count, failure=failure_class(exc)
        )
        await asyncio.sleep(min(REQUEUE_PAUSE_S * (delivery_count + 1), 2.0))
        await raw.nack(requeue=True)
    else:
        await raw.ack()
    finally:
        structlog.contextvars.unbind_contextvars("message_id")


async def _postponed(
    bound: Any, raw: AbstractIncomingMessage, exc: Exception, lane: RetryLane
) -> bool:
    """Send a transiently failed delivery to the slow lane, then ack it; False when the
    broker would not take the copy (the caller requeues the delivery instead)."""
    try:
        attempt, delay = await lane.postpone(raw)
    except Exception:
        bound.exception("bus.message.postpone_failed", failure="transient", error=repr(exc))
        return False
    await raw.ack()
    bound.warning(
        "bus.message.postponed",
        failure="transient",
        error=repr(exc)[:500],
        transient_attempt=attempt,
        retry_in_s=delay,
    )
    return True
