"""Hostile bodies on ``POST /api/webhooks/stripe`` that services/webhooks/tests does not
cover (forged, replayed, oversized, malformed and wrong content type are there): each is
correctly signed, so only the body itself can be refused. A refusal is a clear 4xx in the
error shape, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from billing_cli.testing.in_process import Running, Webhooks

pytestmark = pytest.mark.integration

PATH = "/api/webhooks/stripe"
COUNT = "SELECT count(*) FROM webhooks.stripe_webhook_events_log"
STORED = "SELECT count(*) FROM webhooks.stripe_webhook_events_log WHERE event_id = $1"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def with_object(event: dict[str, Any], object_json: str) -> bytes:
    """The event's JSON with ``data.object`` replaced by raw JSON text."""
    head = json.dumps({**event, "data": {"object": {"placeholder": 0}}})
    return head.replace('{"placeholder": 0}', object_json).encode()


async def post(running: Running, webhooks: Webhooks, payload: bytes) -> httpx.Response:
    response: httpx.Response = await running.clients["webhooks"].post(
        PATH, content=payload, headers=webhooks.signed(payload)
    )
    return response


def assert_refused(response: httpx.Response, code: str) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.json()["error"]["code"] == code, response.text[:300]


async def test_a_hundred_thousand_nested_arrays_are_refused_and_nothing_stored(
    running: Running, webhooks: Webhooks
) -> None:
    event = webhooks.event({})
    payload = with_object(event, '{"id": "sub_deep", "items": ' + nested(100_000) + "}")
    assert len(payload) < 1024 * 1024  # under the size limit: the nesting is what is refused
    before = await running.fetchval(COUNT)
    response = await post(running, webhooks, payload)
    assert_refused(response, "malformed_event")
    assert await running.fetchval(STORED, event["id"]) == 0
    assert await running.fetchval(COUNT) == before


@pytest.mark.parametrize(
    "object_json",
    [
        '{"id": "sub_nul", "metadata": {"note": "a\\u0000b"}}',
        '{"id": "sub_nul", "metadata": {"a\\u0000": "key with a NUL"}}',
        '{"id": "sub_nul", "items": ["\\u0000"]}',
    ],
    ids=["in a value", "in a key", "in an array"],
)
async def test_a_nul_in_a_string_is_refused_and_nothing_stored(
    running: Running, webhooks: Webhooks, object_json: str
) -> None:
    """Valid JSON, but Postgres' jsonb cannot hold U+0000: a 400, not a 500."""
    event = webhooks.event({})
    payload = with_object(event, object_json)
    json.loads(payload)  # it is valid JSON
    before = await running.fetchval(COUNT)
    response = await post(running, webhooks, payload)
    assert_refused(response, "malformed_event")
    assert await running.fetchval(STORED, event["id"]) == 0
    assert await running.fetchval(COUNT) == before


@pytest.mark.parametrize(
    "object_json",
    [
        '{"id": "sub_text", "metadata": {"note": "a\\\\u0000b"}}',  # the six characters \u0000
        '{"id": "sub_deep", "items": ' + nested(500) + "}",
        '{"id": "sub_unicode", "metadata": {"note": "\\u00e9\\ud83d\\ude00 \\u2028"}}',
    ],
    ids=["escaped backslash before u0000", "500 nested arrays", "escapes of real characters"],
)
async def test_unusual_but_storable_bodies_are_accepted(
    running: Running, webhooks: Webhooks, object_json: str
) -> None:
    """The controls: the refusals above are about the NUL and the depth, nothing broader."""
    event = webhooks.event({})
    payload = with_object(event, object_json)
    response = await post(running, webhooks, payload)
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "duplicate": False}
    assert await running.fetchval(STORED, event["id"]) == 1


@pytest.mark.parametrize(
    "object_json",
    ['{"note": "\\ud800"}', '{"note": "\\udc00x"}'],
    ids=["lone high surrogate", "lone low surrogate"],
)
async def test_lone_surrogates_are_refused_and_nothing_stored(
    running: Running, webhooks: Webhooks, object_json: str
) -> None:
    event = webhooks.event({})
    response = await post(running, webhooks, with_object(event, object_json))
    assert_refused(response, "malformed_event")
    assert await running.fetchval(STORED, event["id"]) == 0
