"""POST /api/webhooks/stripe against the real database: once-only, and every rejection
stores nothing."""

import json
import time
from typing import Any

import pytest
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.tcp_proxy import proxy_database
from webhooks.testing import Builders, Signer, StartWebhooks

pytestmark = pytest.mark.integration


async def test_accepted_once_then_duplicate(
    start_webhooks: StartWebhooks, build: type[Builders]
) -> None:
    event = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    async with start_webhooks() as hooks:
        before = await hooks.rows()
        first = await hooks.post_event(event)
        second = await hooks.post_event(event)
        assert first.status_code == 200, first.text
        assert first.json() == {"received": True, "duplicate": False}
        assert second.json() == {"received": True, "duplicate": True}
        assert await hooks.rows() == before + 1
        row = await hooks.row(event["id"])
        assert row is not None
        assert row["event_type"] == "invoice.paid"
        assert row["api_version"] == event["api_version"]  # kept as Stripe sent it
        assert json.loads(row["payload"]) == event


async def test_signed_with_the_previous_secret_is_accepted(
    start_webhooks: StartWebhooks, build: type[Builders]
) -> None:
    async with start_webhooks() as hooks:
        response = await hooks.post_event(
            build.event("invoice.paid", build.invoice()), secret="whsec_test_secret_previous"
        )
        assert response.status_code == 200


def _cases(
    build: type[Builders], signer: Signer
) -> list[tuple[str, bytes, dict[str, str], int, str]]:
    event = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    body = json.dumps(event).encode()
    good = signer(body)
    now = int(time.time())
    not_event = json.dumps({"id": "ch_1", "type": "x", "created": now}).encode()
    return [
        ("no signature", body, {"Content-Type": "application/json"}, 400, "missing_signature"),
        ("malformed", body, {**good, "Stripe-Signature": "nonsense"}, 400, "malformed_signature"),
        ("forged", body, signer(body, secret="whsec_attacker"), 400, "invalid_signature"),
        ("tampered", body.replace(b"tenant_a", b"tenant_b"), good, 400, "invalid_signature"),
        (
            "replayed old",
            body,
            signer(body, timestamp=now - 3600),
            400,
            "timestamp_out_of_tolerance",
        ),
        (
            "from the future",
            body,
            signer(body, timestamp=now + 3600),
            400,
            "timestamp_out_of_tolerance",
        ),
        ("not json", b"{oops", signer(b"{oops"), 400, "malformed_event"),
        ("not an event", not_event, signer(not_event), 400, "malformed_event"),
        (
            "wrong content type",
            body,
            {**good, "Content-Type": "text/plain"},
            415,
            "unsupported_media_type",
        ),
        (
            "form encoded",
            body,
            {**good, "Content-Type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (
            "forged, as text/plain",  # the signature is checked first: a forgery is a 400
            body,
            {**signer(body, secret="whsec_attacker"), "Content-Type": "text/plain"},
            400,
            "invalid_signature",
        ),
        (
            "unsigned, no content type",
            body,
            {},
            400,
            "missing_signature",
        ),
    ]


async def test_every_rejection_stores_nothing(
    start_webhooks: StartWebhooks, build: type[Builders], signer: Signer
) -> None:
    async with start_webhooks() as hooks:
        before = await hooks.rows()
        for name, body, headers, status, code in _cases(build, signer):
            response = await hooks.client.post(
                "/api/webhooks/stripe", content=body, headers=headers
            )
            assert response.status_code == status, name
            assert response.json()["error"]["code"] == code, name
        assert await hooks.rows() == before


async def test_a_nul_in_a_string_is_a_400_and_stores_nothing(
    start_webhooks: StartWebhooks, build: type[Builders], signer: Signer
) -> None:
    """Regression (tests/hostile): jsonb refuses U+0000, so this signed, valid JSON was a 500."""
    event = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    event["data"]["object"]["description"] = "a\u0000b"
    body = json.dumps(event).encode()
    async with start_webhooks() as hooks:
        before = await hooks.rows()
        response = await hooks.client.post(
            "/api/webhooks/stripe", content=body, headers=signer(body)
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "malformed_event"
        assert await hooks.rows() == before


async def test_a_signed_event_without_a_content_type_is_accepted(
    start_webhooks: StartWebhooks, build: type[Builders], signer: Signer
) -> None:
    """The contract's answers for ingest are 200, 400 and 413: a sender that states no
    Content-Type (a raw-bytes POST) is taken at its signed word."""
    event = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    body = json.dumps(event).encode()
    headers = {k: v for k, v in signer(body).items() if k.lower() != "content-type"}
    async with start_webhooks() as hooks:
        response = await hooks.client.post("/api/webhooks/stripe", content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"received": True, "duplicate": False}
        assert (await hooks.row(event["id"])) is not None


async def test_oversized_bodies_are_refused_without_storing(
    start_webhooks: StartWebhooks, signer: Signer
) -> None:
    big = b'{"id": "evt_big", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    async with start_webhooks() as hooks:
        before = await hooks.rows()
        declared = await hooks.client.post("/api/webhooks/stripe", content=big, headers=signer(big))
        assert declared.status_code == 413

        async def chunks() -> Any:
            for start in range(0, len(big), 65536):
                yield big[start : start + 65536]

        streamed = await hooks.client.post(
            "/api/webhooks/stripe", content=chunks(), headers=signer(big)
        )
        assert streamed.status_code == 413
        assert streamed.json()["error"]["code"] == "payload_too_large"
        untyped = {k: v for k, v in signer(big).items() if k.lower() != "content-type"}
        for headers in (untyped, {**untyped, "Content-Type": "text/plain"}):
            answer = await hooks.client.post("/api/webhooks/stripe", content=big, headers=headers)
            assert answer.status_code == 413  # the size is checked before anything else
        assert await hooks.rows() == before


async def test_database_down_is_503_then_recovers(
    start_webhooks: StartWebhooks, build: type[Builders], webhooks_database: str
) -> None:
    proxy, proxied = await proxy_database(webhooks_database)
    event = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    async with start_webhooks(database_url=proxied) as hooks:
        await proxy.cut()
        down = await hooks.post_event(event)
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "database_unavailable"
        assert (await hooks.client.get("/readyz")).status_code == 503
        await proxy.restore()
        again = None
        for _ in range(20):  # the pool replaces its dead connections
            again = await hooks.post_event(event)
            if again.status_code == 200:
                break
        assert again is not None
        assert again.json() == {"received": True, "duplicate": False}
        assert await hooks.row(event["id"]) is not None
    await proxy.close()


async def test_an_accepted_event_reaches_the_bus(
    start_webhooks: StartWebhooks, build: type[Builders], amqp_url: str, exchange_name: str
) -> None:
    sub = build.subscription(tenant="tenant_bus")
    event = build.event("customer.subscription.updated", sub)
    async with EventCollector(amqp_url, exchange_name) as collector, start_webhooks() as hooks:
        assert (await hooks.post_event(event)).status_code == 200
        assert await collector.wait_for(1, timeout=10)
        row = await hooks.row(event["id"])
        assert row is not None
    [body] = collector.bodies()
    assert body["type"] == "subscription.updated"
    assert body["tenant_id"] == "tenant_bus"
    assert body["causation_id"] == event["id"]
    assert body["data"]["stripe_subscription_id"] == sub["id"]
    assert row["status"] == "processed"
    assert row["tenant_id"] == "tenant_bus"
