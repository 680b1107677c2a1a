"""The slow lane: a transient failure waits in a delay queue, never against the delivery limit.

A quorum queue counts every redelivery (a nack with requeue) against its
``x-delivery-limit``, so requeueing on an outage would dead-letter perfectly good
messages after a few seconds (the reliability probe: Postgres cut for 8 s, a
``cancel_at_period_end`` update in the DLQ). A failure ``billing_platform.failures``
classifies as transient (database, Stripe or broker unavailable or busy) is instead
republished to the queue's slow lane and the original acked:

- ``<queue>.retry``: a durable headers exchange; the message keeps its body, message
  id and routing key, its header ``x-billing-transient-attempts`` counts the
  transient failures so far and ``billing-retry-delay`` picks the delay tier;
- ``<queue>.retry.<N>s``: one durable quorum queue per tier (``RETRY_DELAYS_S``: 1, 3,
  10, 30, 60 s) with a queue-level ``x-message-ttl``: every message of a tier waits
  the same time, so expiry at the head never holds a shorter wait behind a longer
  one; expired messages are dead-lettered (at least once) to
- ``<queue>.requeue``: a durable fanout exchange bound to the work queue alone, so
  the message returns with its original routing key and a fresh delivery count.

Attempt n waits ``RETRY_DELAYS_S[n - 1]``, then 60 s per attempt for as long as the
outage lasts: there is no cap on transient attempts (the backlog gauges and alerts
show a lane that never drains). The original is acked only after the broker
confirmed the republish, so a crash in between leaves a duplicate, which the
consumer's inbox drops. Counted in ``billing_consumer_transient_retries_total{queue}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage
from prometheus_client import Counter

RETRY_DELAYS_S: tuple[int, ...] = (1, 3, 10, 30, 60)
ATTEMPTS_HEADER = "x-billing-transient-attempts"
# Headers exchanges ignore ``x-`` headers when matching: the tier header has no prefix.
DELAY_HEADER = "billing-retry-delay"
PUBLISH_TIMEOUT_S = 10.0
_Delay = TypeVar("_Delay", int, float)

TRANSIENT_RETRIES = Counter(
    "billing_consumer_transient_retries_total",
    "Messages a consumer sent to its slow lane after a transient failure, by queue.",
    ["queue"],
)


def retry_exchange(queue: str) -> str:
    return f"{queue}.retry"


def requeue_exchange(queue: str) -> str:
    return f"{queue}.requeue"


def delay_queue(queue: str, seconds: int) -> str:
    return f"{queue}.retry.{seconds}s"


def delay_for(attempt: int, delays: Sequence[_Delay] = RETRY_DELAYS_S) -> _Delay:
    """The wait before transient attempt ``attempt`` (1-based) is retried."""
    return delays[min(max(attempt, 1), len(delays)) - 1]


def transient_attempts(headers: Mapping[str, Any] | None) -> int:
    """Transient failures a delivery already went through (0 on its first trip)."""
    value = (headers or {}).get(ATTEMPTS_HEADER, 0)
    return value if isinstance(value, int) and value >= 0 else 0


async def declare_retry_lane(
    channel: AbstractChannel, queue: str, delays: Sequence[int] = RETRY_DELAYS_S
) -> AbstractExchange:
    """Declare (idempotently) the lane's exchanges and tier queues; returns the
    requeue exchange, which the caller binds the work queue to."""
    # Auto-delete: each exchange goes with the queues bound to it (durable queues
    # stay, so in production they stay too; a test deleting its queues leaves nothing).
    retry = await channel.declare_exchange(
        retry_exchange(queue), aio_pika.ExchangeType.HEADERS, durable=True, auto_delete=True
    )
    requeue = await channel.declare_exchange(
        requeue_exchange(queue), aio_pika.ExchangeType.FANOUT, durable=True, auto_delete=True
    )
    for seconds in delays:
        tier = await channel.declare_queue(
            delay_queue(queue, seconds),
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": seconds * 1000,
                "x-dead-letter-exchange": requeue_exchange(queue),
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",  # required by at-least-once dead-lettering
            },
        )
        await tier.bind(retry, arguments={"x-match": "all", DELAY_HEADER: str(seconds)})
    return requeue


class RetryLane:
    """Sends a delivery to its queue's slow lane through a confirming channel."""

    def __init__(
        self, queue: str, exchange: AbstractExchange, delays: Sequence[int] = RETRY_DELAYS_S
    ) -> None:
        self.queue, self._exchange, self._delays = queue, exchange, tuple(delays)

    async def postpone(self, raw: AbstractIncomingMessage) -> tuple[int, int]:
        """Republish ``raw`` to wait its tier; returns (attempt, delay in seconds) once
        the broker confirmed it. Raises when the broker refuses or does not confirm."""
        attempt = transient_attempts(raw.headers) + 1
        delay = delay_for(attempt, self._delays)
        # The broker's own headers (x-death, x-delivery-count...) stay behind: the copy is
        # a new message, and a dead-letter history would make the lane look like a cycle.
        headers: dict[str, Any] = {
            key: value for key, value in (raw.headers or {}).items() if not key.startswith("x-")
        }
        headers.update({ATTEMPTS_HEADER: attempt, DELAY_HEADER: str(delay)})
        await self._exchange.publish(
            aio_pika.Message(
                body=raw.body,
                message_id=raw.message_id,
                content_type=raw.content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers=headers,
            ),
            routing_key=raw.routing_key or "",
            mandatory=True,
            timeout=PUBLISH_TIMEOUT_S,
        )
        TRANSIENT_RETRIES.labels(self.queue).inc()
        return attempt, delay
