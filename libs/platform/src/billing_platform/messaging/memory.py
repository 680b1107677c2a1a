"""In-memory bus: the RabbitMQ adapter's semantics without a broker.

Used by ``billing dev`` when ``AMQP_URL`` is unset and by unit tests. Same
contract as the RabbitMQ bus: topic routing to every bound queue, one
consumer loop per queue, ack only when the handler returns. A transient failure
(``billing_platform.failures``) waits its slow-lane delay (1, 3, 10, 30, then 60 s,
``retry_lane.RETRY_DELAYS_S``) in a timer of its own, the queue flowing meanwhile,
and comes back with a fresh delivery count, for as long as it keeps failing
transiently (``drain`` waits for it). Any other failure is redelivered with
``redelivered=True`` and dead-lettered after ``delivery_limit`` deliveries, or at
once on ``PoisonMessage``. Nothing survives the process.

A bus handed to a service is the caller's to close (the service closes only the bus
it made): ``async with InMemoryBus() as bus:`` does it, so no consumer task outlives
its test and is destroyed pending by the garbage collector, at any later moment.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import structlog

from billing_platform.failures import is_transient
from billing_platform.messaging.message import (
    IncomingMessage,
    MessageHandler,
    OutgoingMessage,
    PoisonMessage,
)
from billing_platform.messaging.publishers import publisher_checked
from billing_platform.messaging.retry_lane import RETRY_DELAYS_S, TRANSIENT_RETRIES, delay_for
from billing_platform.messaging.topic import topic_matches

log = structlog.get_logger("billing_platform.bus.memory")


@dataclass
class _Queue:
    name: str
    binding_keys: list[str]
    handler: MessageHandler
    delivery_limit: int
    # (message, deliveries so far, transient failures so far)
    pending: asyncio.Queue[tuple[OutgoingMessage, int, int]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    postponed: set[asyncio.Task[None]] = field(default_factory=set)


class InMemoryBus:
    """A topic exchange with durable-for-the-process queues and dead-lettering."""

    def __init__(self, *, retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        self._retry_delays = retry_delays_s
        self._queues: dict[str, _Queue] = {}
        self.published: list[OutgoingMessage] = []
        self.dead_letters: dict[str, list[OutgoingMessage]] = {}
        self._closed = False

    async def __aenter__(self) -> InMemoryBus:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def publish(self, message: OutgoingMessage) -> None:
        if self._closed:
            raise ConnectionError("in-memory bus is closed")
        self.published.append(message)
        for queue in self._queues.values():
            if any(topic_matches(key, message.routing_key) for key in queue.binding_keys):
                queue.pending.put_nowait((message, 0, 0))

    async def subscribe(
        self,
        queue: str,
        binding_keys: list[str],
        handler: MessageHandler,
        *,
        prefetch: int = 16,
        delivery_limit: int = 5,
    ) -> None:
        if queue in self._queues:
            raise ValueError(f"queue {queue!r} already has a consumer")
        checked = publisher_checked(queue, handler)  # one type, one publisher
        state = _Queue(queue, list(binding_keys), checked, delivery_limit)
        state.task = asyncio.create_task(self._consume(state), name=f"bus-consume-{queue}")
        self._queues[queue] = state

    async def _consume(self, queue: _Queue) -> None:
        while True:
            message, previous_deliveries, transient = await queue.pending.get()
            delivery = IncomingMessage(
                message_id=message.message_id,
                routing_key=message.routing_key,
                body=message.body,
                redelivered=previous_deliveries > 0,
                delivery_count=previous_deliveries,
            )
            try:
                await queue.handler(delivery)
            except PoisonMessage as exc:
                self._dead_letter(queue, message, reason=str(exc))
            except Exception as exc:
                if is_transient(exc):
                    self._postpone(queue, message, transient + 1, exc)
                    continue
                deliveries = previous_deliveries + 1
                if deliveries >= queue.delivery_limit:
                    self._dead_letter(queue, message, reason=repr(exc))
                else:
                    log.warning(
                        "bus.message.requeued", queue=queue.name, message_id=message.message_id
                    )
                    queue.pending.put_nowait((message, deliveries, transient))
            finally:
                queue.pending.task_done()

    def _postpone(
        self, queue: _Queue, message: OutgoingMessage, attempt: int, exc: Exception
    ) -> None:
        delay = delay_for(attempt, self._retry_delays)
        TRANSIENT_RETRIES.labels(queue.name).inc()
        log.warning(
            "bus.message.postponed",
            queue=queue.name,
            message_id=message.message_id,
            failure="transient",
            error=repr(exc)[:500],
            transient_attempt=attempt,
            retry_in_s=delay,
        )

        async def back_after_delay() -> None:
            await asyncio.sleep(delay)
            queue.pending.put_nowait((message, 0, attempt))

        task = asyncio.create_task(back_after_delay(), name=f"bus-postponed-{queue.name}")
        queue.postponed.add(task)
        task.add_done_callback(queue.postponed.discard)

    def _dead_letter(self, queue: _Queue, message: OutgoingMessage, *, reason: str) -> None:
        log.error(
            "bus.message.dead_lettered",
            queue=queue.name,
            message_id=message.message_id,
            reason=reason,
        )
        self.dead_letters.setdefault(queue.name, []).append(message)

    async def drain(self) -> None:
        """Wait until every queue has handled everything published so far (a message
        failing transiently included: until it stops failing)."""
        for queue in list(self._queues.values()):
            await queue.pending.join()
            while queue.postponed:
                await asyncio.wait(set(queue.postponed))
                await queue.pending.join()

    async def is_ready(self) -> bool:
        return not self._closed

    async def close(self) -> None:
        self._closed = True
        for queue in self._queues.values():
            for waiting in queue.postponed:
                waiting.cancel()
            if queue.task is not None:
                queue.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await queue.task
        self._queues.clear()
