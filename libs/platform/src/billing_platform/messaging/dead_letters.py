"""Dead letters an operator can see and replay (``billing events dlq list|replay``).

A consumer's queue ``Q`` dead-letters to ``Q.dlq`` (see ``rabbitmq``): a message
rejected as poison, or redelivered past the queue's delivery limit. Nothing reads
that queue but these functions.

- Listing takes every message with ``basic.get`` without acking, then closes the
  channel: the broker puts them all back (in an order of its choosing), and nothing
  is lost if the process dies half-way (a return on channel close; quorum queues count it in
  ``x-delivery-count``, which the dead-letter queue has no limit on).
- Replaying republishes a message on the billing exchange with the SAME message id,
  routing key, body and headers (minus the broker's ``x-death`` bookkeeping), on a
  confirming channel and ``mandatory`` (a routing key no queue is bound to is an
  error, not a silent drop); the dead letter is acked only once the broker
  confirmed the republish. Consumers' inboxes drop copies of what they applied.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from aio_pika.exceptions import ChannelNotFoundEntity

from billing_platform.messaging.rabbitmq import PUBLISH_TIMEOUT_S, dead_letter_queue

BROKER_HEADERS = frozenset({"x-death", "x-delivery-count", "x-first-death-exchange"})
BROKER_HEADER_PREFIXES = ("x-first-death-", "x-last-death-")


class DeadLetterQueueMissingError(LookupError):
    """The queue has no dead-letter queue on this broker (never declared)."""


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    message_id: str | None
    routing_key: str  # the routing key it was first published with
    type: str | None
    tenant_id: str | None
    source: str | None
    reason: str | None  # rejected | delivery_limit | expired | maxlen
    death_count: int
    first_death_at: datetime | None
    body: bytes
    headers: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "routing_key": self.routing_key,
            "type": self.type,
            "tenant_id": self.tenant_id,
            "source": self.source,
            "reason": self.reason,
            "death_count": self.death_count,
            "first_death_at": self.first_death_at.isoformat() if self.first_death_at else None,
        }


def dlq_name(queue: str) -> str:
    """``Q`` or ``Q.dlq`` -> ``Q.dlq``."""
    return dead_letter_queue(queue.removesuffix(".dlq"))


async def list_dead_letters(url: str, queue: str, *, limit: int = 10_000) -> list[DeadLetter]:
    """The dead letters of ``queue``; all of them stay in the queue."""
    async with _dead_letters(url, queue) as (_, dlq):
        return [read_dead_letter(raw) for raw in await _take(dlq, limit)]


async def replay_dead_letters(
    url: str,
    exchange: str,
    queue: str,
    *,
    message_ids: Collection[str] | None = None,
    limit: int = 10_000,
) -> list[DeadLetter]:
    """Republish the dead letters of ``queue`` (those of ``message_ids``, or all) to
    ``exchange``; each leaves the dead-letter queue once its republish is confirmed.
    Messages without a message id are left where they are (a consumer rejects them)."""
    replayed: list[DeadLetter] = []
    async with _dead_letters(url, queue) as (channel, dlq):
        target = await channel.get_exchange(exchange, ensure=True)
        for raw in await _take(dlq, limit):
            letter = read_dead_letter(raw)
            if letter.message_id is None:
                continue
            if message_ids is not None and letter.message_id not in message_ids:
                continue
            await target.publish(
                aio_pika.Message(
                    body=letter.body,
                    message_id=letter.message_id,
                    content_type=raw.content_type or "application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    headers=letter.headers,
                ),
                routing_key=letter.routing_key,
                mandatory=True,
                timeout=PUBLISH_TIMEOUT_S,
            )
            await raw.ack()
            replayed.append(letter)
    return replayed


async def queue_depth(channel: AbstractChannel, queue: str) -> int | None:
    """Messages ready in ``queue`` (a passive declare), None when it does not exist.
    A missing queue closes the channel: use a channel of its own."""
    try:
        declared = await channel.declare_queue(queue, passive=True)
    except ChannelNotFoundEntity:
        return None
    result = declared.declaration_result
    return int(result.message_count or 0)


def read_dead_letter(raw: AbstractIncomingMessage) -> DeadLetter:
    headers = dict(raw.headers or {})
    deaths = headers.get("x-death")
    first = _first_death(deaths)
    envelope = _envelope(raw.body)
    keys = first.get("routing-keys") if first else None
    original_key = _text(keys[0]) if isinstance(keys, list) and keys else None
    return DeadLetter(
        message_id=raw.message_id or None,
        routing_key=original_key or raw.routing_key or "",
        type=_text(envelope.get("type")),
        tenant_id=_text(envelope.get("tenant_id")),
        source=_text(envelope.get("source")),
        reason=_text(first.get("reason")) if first else None,
        death_count=_death_count(deaths),
        first_death_at=_time(first.get("time")) if first else None,
        body=raw.body,
        headers={
            k: v
            for k, v in headers.items()
            if k not in BROKER_HEADERS and not k.startswith(BROKER_HEADER_PREFIXES)
        },
    )


@contextlib.asynccontextmanager
async def _dead_letters(
    url: str, queue: str
) -> AsyncIterator[tuple[AbstractChannel, AbstractQueue]]:
    """A confirming channel and the dead-letter queue; closing the channel returns
    every message taken and not acked."""
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        try:
            dlq = await channel.declare_queue(dlq_name(queue), passive=True)
        except ChannelNotFoundEntity:
            raise DeadLetterQueueMissingError(f"no dead-letter queue {dlq_name(queue)}") from None
        yield channel, dlq


async def _take(dlq: AbstractQueue, limit: int) -> list[AbstractIncomingMessage]:
    taken: list[AbstractIncomingMessage] = []
    while len(taken) < limit:
        raw = await dlq.get(no_ack=False, fail=False)
        if raw is None:
            break
        taken.append(raw)
    return taken


def _first_death(deaths: Any) -> dict[str, Any]:
    """x-death lists the most recent death first; the first death is the last entry."""
    if isinstance(deaths, list) and deaths and isinstance(deaths[-1], dict):
        return deaths[-1]
    return {}


def _death_count(deaths: Any) -> int:
    if not isinstance(deaths, list):
        return 0
    return sum(d.get("count", 0) for d in deaths if isinstance(d, dict))


def _envelope(body: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(body)
    except ValueError:
        return {}
    return envelope if isinstance(envelope, dict) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None
