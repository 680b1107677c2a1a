"""``billing prune`` on a migrated Postgres (issue 15 item 10: nothing was ever deleted).

Old delivered rows go, recent ones stay, and nothing still to do (unsent, parked, failed,
waiting) is touched, whatever its age.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest
from billing_cli.prune_command import RetentionSettings, prune_once
from billing_cli.services import SERVICES
from billing_platform.migrations import upgrade_async

pytestmark = pytest.mark.integration

BILLING = str(Path(sys.executable).parent / "billing")
PAYLOAD = {"id": "evt_x", "data": {"object": {"email": "someone@example.com"}}}


def _id() -> str:
    return uuid.uuid4().hex


async def _outbox(conn: asyncpg.Connection, schema: str, age_days: int, state: str) -> str:
    message_id = _id()
    await conn.execute(
        f"INSERT INTO {schema}.outbox (message_id, routing_key, body, created_at, sent_at, "
        "parked_at) VALUES ($1, 'billing.test', '{}'::jsonb, now() - make_interval(days => $2), "
        "CASE WHEN $3 = 'sent' THEN now() - make_interval(days => $2) END, "
        "CASE WHEN $3 = 'parked' THEN now() END)",
        message_id,
        age_days,
        state,
    )
    return message_id


async def _inbox(conn: asyncpg.Connection, schema: str, age_days: int) -> str:
    message_id = _id()
    await conn.execute(
        f"INSERT INTO {schema}.inbox (message_id, routing_key, received_at) "
        "VALUES ($1, 'billing.test', now() - make_interval(days => $2))",
        message_id,
        age_days,
    )
    return message_id


async def _event(conn: asyncpg.Connection, age_days: int, status: str) -> str:
    event_id = f"evt_{_id()}"
    await conn.execute(
        "INSERT INTO webhooks.stripe_webhook_events_log (event_id, event_type, status, "
        "stripe_created_at, payload, received_at, processed_at) VALUES ($1, 'invoice.paid', $2, "
        "now(), $3::jsonb, now() - make_interval(days => $4), "
        "CASE WHEN $2 = 'processed' THEN now() - make_interval(days => $4) END)",
        event_id,
        status,
        json.dumps(PAYLOAD),
        age_days,
    )
    return event_id


async def test_old_delivered_rows_go_and_everything_else_stays(database_url: str) -> None:
    await upgrade_async([spec.migrations for spec in SERVICES.values()], database_url)
    conn = await asyncpg.connect(database_url)
    try:
        kept: dict[str, list[str]] = {}
        gone: dict[str, list[str]] = {}
        for schema in SERVICES:
            gone[f"{schema}.outbox"] = [await _outbox(conn, schema, 8, "sent")]
            kept[f"{schema}.outbox"] = [
                await _outbox(conn, schema, 6, "sent"),
                await _outbox(conn, schema, 60, "unsent"),
                await _outbox(conn, schema, 60, "parked"),
            ]
            gone[f"{schema}.inbox"] = [await _inbox(conn, schema, 31)]
            kept[f"{schema}.inbox"] = [await _inbox(conn, schema, 29)]
        cleared = await _event(conn, 31, "processed")
        intact = [
            await _event(conn, 29, "processed"),
            await _event(conn, 90, "failed"),
            await _event(conn, 90, "parked"),
            await _event(conn, 90, "pending"),
        ]

        lines = await prune_once(database_url, RetentionSettings())

        assert len(lines) == len(SERVICES)
        for table, ids in gone.items():
            assert await _count(conn, table, ids) == 0, table
        for table, ids in kept.items():
            assert await _count(conn, table, ids) == len(ids), table
        assert await _payload(conn, cleared) == {}
        for event_id in intact:
            assert await _payload(conn, event_id) == PAYLOAD, event_id
        log = "webhooks.stripe_webhook_events_log"
        assert await conn.fetchval(f"SELECT count(*) FROM {log} WHERE event_id = $1", cleared) == 1
    finally:
        await conn.close()


async def _count(conn: asyncpg.Connection, table: str, ids: list[str]) -> int:
    count: int = await conn.fetchval(
        f"SELECT count(*) FROM {table} WHERE message_id = ANY($1::text[])", ids
    )
    return count


async def _payload(conn: asyncpg.Connection, event_id: str) -> object:
    raw = await conn.fetchval(
        "SELECT payload::text FROM webhooks.stripe_webhook_events_log WHERE event_id = $1",
        event_id,
    )
    return json.loads(raw)


def test_billing_prune_runs_once_and_refuses_a_period_under_a_day(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_FORMAT": "console"}
    ran = subprocess.run([BILLING, "prune"], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "webhooks:" in ran.stdout
    assert "event payloads" in ran.stdout
    bad = subprocess.run(
        [BILLING, "prune"],
        env={**env, "RETENTION_OUTBOX_DAYS": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "RETENTION_" in bad.stderr
