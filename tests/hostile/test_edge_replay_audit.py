"""Issue 15 item 10: replays were not audited. Now each one records the operator's ``sub``,
the time and the status it left, in the replay's own transaction; a refused replay
(409, 404) records nothing."""

from __future__ import annotations

import uuid

import jwt
import pytest
from billing_cli.testing.in_process import Running, Tokens

pytestmark = pytest.mark.integration

AUDIT = (
    "SELECT replayed_by || '|' || previous_status FROM webhooks.event_replays "
    "WHERE event_id = $1 ORDER BY id"
)


async def _stored(running: Running, status: str) -> str:
    event_id = f"evt_{uuid.uuid4().hex}"
    await running.fetchval(
        "INSERT INTO webhooks.stripe_webhook_events_log (event_id, event_type, status, "
        "stripe_created_at, payload, processed_at) VALUES ($1, 'invoice.paid', $2, now(), "
        "'{}'::jsonb, CASE WHEN $2 = 'pending' THEN NULL ELSE now() END) RETURNING id",
        event_id,
        status,
    )
    return event_id


async def _audit(running: Running, event_id: str) -> list[str]:
    rows = await running.fetchval(
        f"SELECT coalesce(array_agg(x), '{{}}') FROM ({AUDIT}) AS a(x)", event_id
    )
    return list(rows)


@pytest.mark.parametrize("status", ["failed", "parked"])
async def test_a_replay_records_the_operators_sub(
    running: Running, tokens: Tokens, status: str
) -> None:
    token = tokens.valid(tokens.new_tenant(), "admin", operator=True)
    sub = jwt.decode(token, options={"verify_signature": False})["sub"]
    event_id = await _stored(running, status)

    replayed = await running.clients["webhooks"].post(
        f"/api/webhooks/events/{event_id}/replay", headers=tokens.header(token)
    )

    assert replayed.status_code == 200, replayed.text
    assert await _audit(running, event_id) == [f"{sub}|{status}"]
    when = await running.fetchval(
        "SELECT now() - replayed_at < interval '1 minute' FROM webhooks.event_replays "
        "WHERE event_id = $1",
        event_id,
    )
    assert when is True


async def test_a_refused_replay_records_nothing(running: Running, tokens: Tokens) -> None:
    token = tokens.valid(tokens.new_tenant(), "admin", operator=True)
    pending = await _stored(running, "pending")
    conflict = await running.clients["webhooks"].post(
        f"/api/webhooks/events/{pending}/replay", headers=tokens.header(token)
    )
    missing = await running.clients["webhooks"].post(
        "/api/webhooks/events/evt_nowhere_to_be_found/replay", headers=tokens.header(token)
    )
    assert (conflict.status_code, missing.status_code) == (409, 404)
    assert await _audit(running, pending) == []
