"""Backlog gauges every service samples beside its relay (``service_infrastructure``).

- ``billing_outbox_oldest_unsent_age_seconds{service}``: the outbox's oldest row the
  broker has not confirmed (the relay is stuck, or the broker is down);
- ``billing_queue_depth{queue}`` and ``billing_dlq_depth{queue}``: for each queue this
  process consumes, the messages ready in it and in its dead-letter queue, read by a
  passive declare on a connection of the sampler's own (a missing queue closes the
  channel it was asked on, never the consumers').

Our own gauges rather than RabbitMQ's prometheus plugin: they are exported by the
services Prometheus already scrapes, named like every other billing metric, tested
with the rest (tools/cli/tests/test_alert_rules.py), and need nothing enabled on the
broker (a managed RabbitMQ may not offer the plugin). Each replica of a consumer
reports the same queue: the alerts take ``max by (queue)``.
"""

from __future__ import annotations

import asyncio
import contextlib

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import AbstractChannel, AbstractConnection

from billing_platform.messaging.dead_letters import queue_depth
from billing_platform.messaging.rabbitmq import dead_letter_queue, declared_queues
from billing_platform.metrics import DLQ_DEPTH, OUTBOX_OLDEST_UNSENT_AGE, QUEUE_DEPTH
from billing_platform.sql_names import schema_name
from billing_platform.wakeup import sleep_or_stop

log = structlog.get_logger("billing_platform.backlog_gauges")

SAMPLE_INTERVAL_S = 15.0


async def sample_outbox_age(pool: asyncpg.Pool, schema: str) -> float:
    s = schema_name(schema)
    age = await pool.fetchval(
        "SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 "  # noqa: S608 (identifiers from sql_names, values are parameters)
        f"FROM {s}.outbox WHERE sent_at IS NULL"
    )
    seconds = float(age or 0.0)
    OUTBOX_OLDEST_UNSENT_AGE.labels(schema).set(seconds)
    return seconds


class BrokerDepthSampler:
    """Sets ``billing_queue_depth`` and ``billing_dlq_depth`` for the queues this
    process declared on ``exchange``."""

    def __init__(self, amqp_url: str, exchange: str) -> None:
        self._url = amqp_url
        self._exchange = exchange
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None

    async def sample(self) -> dict[str, tuple[int | None, int | None]]:
        depths = {}
        for queue in sorted(declared_queues(self._exchange)):
            ready = await self._depth(queue)
            dead = await self._depth(dead_letter_queue(queue))
            if ready is not None:
                QUEUE_DEPTH.labels(queue).set(ready)
            if dead is not None:
                DLQ_DEPTH.labels(queue).set(dead)
            depths[queue] = (ready, dead)
        return depths

    async def _depth(self, queue: str) -> int | None:
        if self._connection is None or self._connection.is_closed:
            self._connection = await aio_pika.connect(self._url, timeout=5)
        if self._channel is None or self._channel.is_closed:
            self._channel = await self._connection.channel()
        return await queue_depth(self._channel, queue)

    async def close(self) -> None:
        if self._connection is not None and not self._connection.is_closed:
            await self._connection.close()
        self._connection = self._channel = None


async def run_backlog_gauges(
    stop: asyncio.Event,
    pool: asyncpg.Pool,
    schema: str,
    broker: BrokerDepthSampler | None,
    *,
    interval: float = SAMPLE_INTERVAL_S,
) -> None:
    """Sample until ``stop``; a failed sample (database or broker down) is skipped."""
    try:
        while not stop.is_set():
            try:
                await sample_outbox_age(pool, schema)
                if broker is not None:
                    await broker.sample()
            except Exception as exc:
                log.debug("backlog_gauges.sample_failed", schema=schema, error=repr(exc))
                if broker is not None:
                    with contextlib.suppress(Exception):
                        await broker.close()
            await sleep_or_stop(stop, interval)
    finally:
        if broker is not None:
            with contextlib.suppress(Exception):
                await broker.close()
