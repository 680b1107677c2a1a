"""Retention of the Stripe event log (``billing prune``).

Rows stay: the ``event_id`` is what makes a redelivery a duplicate, and operators read
the log. What goes is the customer data: the ``payload`` of an event ``processed``
(ignored included) more than ``days`` ago becomes ``{}``. Failed and parked events keep
theirs (an operator may still replay them), and so does anything still waiting.
"""

from __future__ import annotations

import asyncpg
from billing_platform.retention import DEFAULT_BATCH, run_in_batches

from webhooks.schema import SCHEMA

DEFAULT_PAYLOAD_DAYS = 30
LOG = f"{SCHEMA}.stripe_webhook_events_log"


async def clear_old_payloads(
    pool: asyncpg.Pool, *, days: int = DEFAULT_PAYLOAD_DAYS, batch: int = DEFAULT_BATCH
) -> int:
    return await run_in_batches(
        pool,
        f"UPDATE {LOG} SET payload = '{{}}'::jsonb WHERE id IN (SELECT id FROM {LOG} "  # noqa: S608 (identifiers from sql_names, values are parameters)
        "WHERE status = 'processed' AND processed_at < now() - make_interval(days => $1) "
        "AND payload <> '{}'::jsonb LIMIT $2)",
        days,
        batch,
    )
