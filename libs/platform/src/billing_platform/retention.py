"""Retention: delivered messages are not kept for ever (``billing prune``).

Per service schema:

- ``outbox``: rows the broker confirmed (``sent_at``) more than ``outbox_days`` ago
  are deleted. Unsent and parked rows stay, whatever their age: they are work.
- ``inbox``: ``message_id``s recorded more than ``inbox_days`` ago are deleted. The
  inbox only has to outlive redeliveries (RabbitMQ redelivers within minutes; a
  dead-lettered message was never recorded), so a month is plenty.

Deleted in batches of ``batch`` rows per statement, so no statement holds many locks
or runs long beside the relay and the consumers.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from billing_platform.sql_names import schema_name

DEFAULT_OUTBOX_DAYS = 7
DEFAULT_INBOX_DAYS = 30
DEFAULT_BATCH = 5000


@dataclass(frozen=True, kw_only=True)
class MessagingPruned:
    schema: str
    outbox: int
    inbox: int


async def prune_messaging(
    pool: asyncpg.Pool,
    schema: str,
    *,
    outbox_days: int = DEFAULT_OUTBOX_DAYS,
    inbox_days: int = DEFAULT_INBOX_DAYS,
    batch: int = DEFAULT_BATCH,
) -> MessagingPruned:
    s = schema_name(schema)
    outbox = await run_in_batches(
        pool,
        f"DELETE FROM {s}.outbox WHERE id IN (SELECT id FROM {s}.outbox "  # noqa: S608 (identifiers from sql_names, values are parameters)
        "WHERE sent_at < now() - make_interval(days => $1) LIMIT $2)",
        outbox_days,
        batch,
    )
    inbox = await run_in_batches(
        pool,
        f"DELETE FROM {s}.inbox WHERE message_id IN (SELECT message_id FROM {s}.inbox "  # noqa: S608 (identifiers from sql_names, values are parameters)
        "WHERE received_at < now() - make_interval(days => $1) LIMIT $2)",
        inbox_days,
        batch,
    )
    return MessagingPruned(schema=s, outbox=outbox, inbox=inbox)


async def run_in_batches(pool: asyncpg.Pool, statement: str, days: int, batch: int) -> int:
    """Run ``statement`` (``$1`` days, ``$2`` batch size) until it touches fewer than a
    batch; the number of rows it touched in all."""
    if days < 1:
        raise ValueError("a retention period is at least one day")
    total = 0
    while True:
        status: str = await pool.execute(statement, days, batch)
        touched = int(status.rsplit(" ", 1)[1])  # "DELETE 42" / "UPDATE 42"
        total += touched
        if touched < batch:
            return total
