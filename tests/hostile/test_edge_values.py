"""Values at the edges of what a parser accepts: digits Python calls digits but int()
refuses or Postgres cannot hold, non-UTF-8 bytes in headers, query strings and bodies,
repeated parameters, unsupported methods. Every answer is a 4xx in the error shape, never
a 5xx. The apps are called with ``raise_app_exceptions=False`` so a
500 is seen as the answer a client would get."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from billing_cli.testing.in_process import Tokens

pytestmark = pytest.mark.integration

STRIPE = "/api/webhooks/stripe"
EVENTS = "/api/webhooks/events"


def assert_4xx(response: httpx.Response, status: int | None = None) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, response.text[:300]
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)


@pytest.mark.parametrize(
    "timestamp",
    [b"\xb2", b"\xb9\xb2\xb3", "\uff11".encode(), b"\xff" * 12, b"-1", b"1e9", b""],
    ids=repr,
)
async def test_a_stripe_signature_timestamp_that_is_no_number_is_400(
    raw: dict[str, httpx.AsyncClient], timestamp: bytes
) -> None:
    response = await raw["webhooks"].post(
        STRIPE,
        content=b"{}",
        headers={
            b"Content-Type": b"application/json",
            b"Stripe-Signature": b"t=" + timestamp + b",v1=ab",
        },
    )
    assert_4xx(response, 400)
    assert response.json()["error"]["code"] == "malformed_signature"


@pytest.mark.parametrize(
    "cursor",
    ["9" * 20, str(2**63), "\u00b2", "\uff11", "-1", "1.5", " 1"],
    ids=repr,
)
async def test_an_events_cursor_that_is_no_row_id_is_422(
    raw: dict[str, httpx.AsyncClient], tokens: Tokens, cursor: str
) -> None:
    operator = tokens.header(tokens.valid(tokens.new_tenant(), "member", operator=True))
    response = await raw["webhooks"].get(EVENTS, params={"cursor": cursor}, headers=operator)
    assert_4xx(response, 422)


async def test_the_largest_cursor_is_a_page(
    raw: dict[str, httpx.AsyncClient], tokens: Tokens
) -> None:
    operator = tokens.header(tokens.valid(tokens.new_tenant(), "member", operator=True))
    response = await raw["webhooks"].get(
        EVENTS, params={"cursor": str(2**63 - 1)}, headers=operator
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("service", "method", "path", "headers", "content"),
    [
        ("checkout", "POST", "/api/billing/checkout", {}, b'{"plan": "\xff"}'),
        ("checkout", "POST", "/api/billing/verify-session", {}, b"\xfe\xff{}"),
        ("subscriptions", "POST", "/api/billing/proration", {}, b'{"plan": "\xc3"}'),
        ("subscriptions", "POST", "/api/billing/subscription/plan", {}, b"\x80"),
        ("checkout", "POST", "/api/billing/checkout", {"Idempotency-Key": b"\xe9t\xe9"}, None),
        ("subscriptions", "DELETE", "/api/billing/subscription", {"X-Tenant-ID": b"\xff"}, None),
        (
            "subscriptions",
            "DELETE",
            "/api/billing/subscription",
            {"Idempotency-Key": b"\xb2"},
            None,
        ),
        ("subscriptions", "GET", "/api/billing/subscription?tenant_id=%ff%fe", {}, None),
        ("subscriptions", "GET", "/api/billing/subscription?tenant_id=a&tenant_id=b", {}, None),
        ("webhooks", "GET", EVENTS + "?type=%ff&status=%fe", {}, None),
        ("checkout", "PUT", "/api/billing/checkout", {}, None),
        ("subscriptions", "PATCH", "/api/billing/subscription", {}, None),
        ("webhooks", "DELETE", EVENTS, {}, None),
    ],
)
async def test_undecodable_and_unusual_requests_are_4xx(
    raw: dict[str, httpx.AsyncClient],
    tokens: Tokens,
    service: str,
    method: str,
    path: str,
    headers: dict[str, Any],
    content: bytes | None,
) -> None:
    tenant = tokens.new_tenant()
    auth = tokens.header(tokens.valid(tenant, "member" if service == "webhooks" else "owner"))
    if service == "webhooks":
        auth = tokens.header(tokens.valid(tenant, "member", operator=True))
    sent = {**auth, **headers}
    if content is not None:
        sent["Content-Type"] = "application/json"
    response = await raw[service].request(method, path, headers=sent, content=content)
    assert_4xx(response)
