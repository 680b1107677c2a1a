"""Issue 18: the operators' page follows a replay with ``GET /api/webhooks/events/{id}``
(queued, then processed or failed). Only operators read it; a bad id is a 422, an
unknown one a 404; reading changes nothing and takes no lock."""

from __future__ import annotations

import uuid

import pytest
from billing_cli.testing.in_process import Running, Tokens

pytestmark = pytest.mark.integration


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


async def test_an_operator_reads_one_event_and_sees_a_replay_queued(
    running: Running, tokens: Tokens
) -> None:
    token = tokens.valid(tokens.new_tenant(), "admin", operator=True)
    event_id = await _stored(running, "failed")
    client = running.clients["webhooks"]
    before = await client.get(f"/api/webhooks/events/{event_id}", headers=tokens.header(token))
    assert before.status_code == 200, before.text
    assert (before.json()["event_id"], before.json()["status"]) == (event_id, "failed")
    await client.post(f"/api/webhooks/events/{event_id}/replay", headers=tokens.header(token))
    after = await client.get(f"/api/webhooks/events/{event_id}", headers=tokens.header(token))
    assert after.json()["status"] in ("pending", "processed")  # queued, then done


@pytest.mark.parametrize(
    ("event_id", "status"),
    [("evt_nowhere_to_be_found", 404), ("not_an_event", 422), ("evt_" + "a" * 300, 422)],
)
async def test_unknown_and_bad_ids(
    running: Running, tokens: Tokens, event_id: str, status: int
) -> None:
    token = tokens.valid(tokens.new_tenant(), "admin", operator=True)
    answer = await running.clients["webhooks"].get(
        f"/api/webhooks/events/{event_id}", headers=tokens.header(token)
    )
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize("role", ["owner", "member"])
async def test_a_tenant_token_reads_no_event(running: Running, tokens: Tokens, role: str) -> None:
    event_id = await _stored(running, "failed")
    token = tokens.valid(tokens.new_tenant(), role)
    answer = await running.clients["webhooks"].get(
        f"/api/webhooks/events/{event_id}", headers=tokens.header(token)
    )
    assert answer.status_code == 403, answer.text
    assert event_id not in answer.text
