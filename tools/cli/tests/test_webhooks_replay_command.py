"""``billing webhooks replay`` on the real database."""

import asyncio

import asyncpg
import pytest
from billing_cli.main import app as cli
from billing_platform.migrations import upgrade_async
from typer.testing import CliRunner
from webhooks.schema import MIGRATIONS

pytestmark = pytest.mark.integration


async def _insert(database_url: str, event_id: str, status: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO webhooks.stripe_webhook_events_log (event_id, event_type, status, "
            "retry_count, error_message, stripe_created_at, payload, processed_at) "
            "VALUES ($1, 'invoice.paid', $2, 3, 'boom', now(), '{}'::jsonb, now())",
            event_id,
            status,
        )
    finally:
        await conn.close()


async def _row(database_url: str, event_id: str) -> asyncpg.Record:
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT status, retry_count, next_attempt_at FROM webhooks.stripe_webhook_events_log "
            "WHERE event_id = $1",
            event_id,
        )
    finally:
        await conn.close()
    assert row is not None, event_id
    return row


async def test_replay_by_status_and_by_id(database_url: str) -> None:
    await upgrade_async([MIGRATIONS], database_url)
    await _insert(database_url, "evt_cli_failed", "failed")
    await _insert(database_url, "evt_cli_parked", "parked")
    await _insert(database_url, "evt_cli_done", "processed")
    env = {"DATABASE_URL": database_url}
    runner = CliRunner()

    by_status = await asyncio.to_thread(
        runner.invoke, cli, ["webhooks", "replay", "--status", "failed"], env=env
    )
    assert by_status.exit_code == 0, by_status.output
    assert "replayed evt_cli_failed" in by_status.output
    failed = await _row(database_url, "evt_cli_failed")
    assert (failed["status"], failed["retry_count"]) == ("pending", 0)
    assert failed["next_attempt_at"] is not None
    assert (await _row(database_url, "evt_cli_parked"))["status"] == "parked"

    by_id = await asyncio.to_thread(
        runner.invoke, cli, ["webhooks", "replay", "--event-id", "evt_cli_parked"], env=env
    )
    assert by_id.exit_code == 0, by_id.output
    assert (await _row(database_url, "evt_cli_parked"))["status"] == "pending"

    refused = await asyncio.to_thread(
        runner.invoke, cli, ["webhooks", "replay", "--event-id", "evt_cli_done"], env=env
    )
    assert refused.exit_code == 1
    assert "not_replayable" in refused.output
    missing = await asyncio.to_thread(
        runner.invoke, cli, ["webhooks", "replay", "--event-id", "evt_nope"], env=env
    )
    assert missing.exit_code == 1
    assert "event_not_found" in missing.output
    nothing = await asyncio.to_thread(runner.invoke, cli, ["webhooks", "replay"], env=env)
    assert nothing.exit_code == 2


async def test_parked_and_failed_shorthands(database_url: str) -> None:
    """``--parked`` (issue 4's spelling) and ``--failed`` stand for ``--status ...``."""
    await upgrade_async([MIGRATIONS], database_url)
    await _insert(database_url, "evt_short_parked", "parked")
    await _insert(database_url, "evt_short_failed", "failed")
    env = {"DATABASE_URL": database_url}
    runner = CliRunner()

    parked = await asyncio.to_thread(
        runner.invoke, cli, ["webhooks", "replay", "--parked"], env=env
    )
    assert parked.exit_code == 0, parked.output
    assert "replayed evt_short_parked" in parked.output
    assert (await _row(database_url, "evt_short_parked"))["status"] == "pending"
    assert (await _row(database_url, "evt_short_failed"))["status"] == "failed"

    both = await asyncio.to_thread(
        runner.invoke, cli, ["webhooks", "replay", "--parked", "--status", "failed"], env=env
    )
    assert both.exit_code == 2
    assert (await _row(database_url, "evt_short_failed"))["status"] == "failed"

    failed = await asyncio.to_thread(
        runner.invoke, cli, ["webhooks", "replay", "--failed"], env=env
    )
    assert failed.exit_code == 0, failed.output
    assert (await _row(database_url, "evt_short_failed"))["status"] == "pending"
