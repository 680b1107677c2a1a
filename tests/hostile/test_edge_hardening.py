"""Issue 15 item 10, the webhook edge: a ``v1=`` that is not 64 hex digits (non-ASCII
included) is a 400 ``malformed_signature``, never an unauthenticated 500; every rejected
delivery is logged (``webhooks.rejected`` with its reason, never the payload); a body
sent straight to a service is capped there, not only in nginx."""

from __future__ import annotations

import time

import httpx
import pytest
from billing_cli.testing.in_process import Tokens, Webhooks
from structlog.testing import capture_logs

pytestmark = pytest.mark.integration

STRIPE = "/api/webhooks/stripe"
MIB = 1024 * 1024


@pytest.mark.parametrize(
    "v1",
    ["\u00e9" * 64, "\uff10" * 64, "g" * 64, "a" * 63, "a" * 65, "", "A" * 64 + "\u0660"],
    ids=repr,
)
async def test_a_v1_that_is_not_64_hex_digits_is_a_400_malformed_signature(
    raw: dict[str, httpx.AsyncClient], v1: str
) -> None:
    header = f"t={int(time.time())},v1={v1}".encode()
    with capture_logs() as logs:
        response = await raw["webhooks"].post(
            STRIPE,
            content=b'{"id": "evt_x"}',
            headers=[(b"Content-Type", b"application/json"), (b"Stripe-Signature", header)],
        )
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error"]["code"] == "malformed_signature"
    rejected = [entry for entry in logs if entry["event"] == "webhooks.rejected"]
    assert rejected == [
        {
            "event": "webhooks.rejected",
            "reason": "malformed_signature",
            "status": 400,
            "log_level": "warning",
        }
    ]


async def test_a_rejected_delivery_is_logged_with_its_reason_and_no_payload(
    raw: dict[str, httpx.AsyncClient], webhooks: Webhooks
) -> None:
    payload = b'{"id": "evt_secret_payload", "customer_email": "someone@example.com"}'
    forged = dict(webhooks.signed(payload))
    forged["Stripe-Signature"] = f"t={int(time.time())},v1={'0' * 64}"
    with capture_logs() as logs:
        response = await raw["webhooks"].post(STRIPE, content=payload, headers=forged)
    assert response.status_code == 400
    rejected = [entry for entry in logs if entry["event"] == "webhooks.rejected"]
    assert [entry["reason"] for entry in rejected] == ["invalid_signature"]
    assert "someone@example.com" not in repr(logs)
    assert "0" * 64 not in repr(logs)


@pytest.mark.parametrize(
    ("service", "path"),
    [
        ("checkout", "/api/billing/checkout"),
        ("subscriptions", "/api/billing/subscription/plan"),
        ("webhooks", "/api/webhooks/events/evt_1/replay"),
    ],
)
async def test_a_body_over_the_cap_sent_straight_to_a_service_is_a_413(
    raw: dict[str, httpx.AsyncClient], tokens: Tokens, service: str, path: str
) -> None:
    owner = tokens.header(tokens.valid(tokens.new_tenant(), operator=True))
    big = b'{"plan": "' + b"x" * (3 * MIB) + b'"}'
    response = await raw[service].post(
        path, content=big, headers={**owner, "Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text[:300]
    assert response.json()["error"]["code"] == "payload_too_large"
