"""Journeys against the Stripe sandbox: checkout, pay on the hosted page, verify."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from stripe_sandbox.testing import CARD_DECLINED, CARD_OK

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]


async def start(
    client: httpx.AsyncClient, headers: dict[str, str], **body: object
) -> dict[str, Any]:
    response = await client.post("/api/billing/checkout", json=body, headers=headers)
    assert response.status_code == 200, response.text
    started: dict[str, Any] = response.json()
    return started


async def verify(
    client: httpx.AsyncClient, headers: dict[str, str], session_id: str
) -> httpx.Response:
    return await client.post(
        "/api/billing/verify-session", json={"session_id": session_id}, headers=headers
    )


async def pay(sandbox_http: httpx.AsyncClient, session_id: str, card: str) -> httpx.Response:
    return await sandbox_http.post(f"/checkout/{session_id}/pay", data={"card": card})


async def customers_of(sandbox_http: httpx.AsyncClient, tenant: str) -> list[dict[str, Any]]:
    response = await sandbox_http.get(
        "/v1/customers/search", params={"query": f"metadata['tenant_id']:'{tenant}'", "limit": 100}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


async def test_owner_pays_with_4242_and_the_session_verifies(
    client: httpx.AsyncClient,
    sandbox_http: httpx.AsyncClient,
    auth: Auth,
    new_tenant: Callable[[], str],
) -> None:
    tenant = new_tenant()
    started = await start(client, auth(tenant), plan="solo")
    assert started["session_id"].startswith("cs_")
    assert started["url"].endswith(f"/checkout/{started['session_id']}")

    before = await verify(client, auth(tenant, "member"), started["session_id"])
    assert before.status_code == 200
    assert before.json() == {
        "verified": False,
        "status": "open",
        "payment_status": "unpaid",
        "plan": None,
        "trial": False,
        "mode": "subscription",
        "payment_method": None,
        "made_default": False,
    }

    paid = await pay(sandbox_http, started["session_id"], CARD_OK)
    assert paid.status_code == 303
    success = urlsplit(paid.headers["location"])
    assert (success.scheme, success.netloc, success.path) == ("http", "app.test", "/settings")
    assert parse_qs(success.query) == {
        "success": ["true"],
        "session_id": [started["session_id"]],
    }

    after = await verify(client, auth(tenant, "member"), started["session_id"])
    assert after.status_code == 200
    assert after.json() == {
        "verified": True,
        "status": "complete",
        "payment_status": "paid",
        "plan": "solo",
        "trial": False,
        "mode": "subscription",
        "payment_method": None,
        "made_default": False,
    }


async def test_trial_journey_verifies_with_trial_and_no_payment_required(
    client: httpx.AsyncClient,
    sandbox_http: httpx.AsyncClient,
    auth: Auth,
    new_tenant: Callable[[], str],
) -> None:
    tenant = new_tenant()
    started = await start(client, auth(tenant), plan="team", trial=True)
    paid = await pay(sandbox_http, started["session_id"], CARD_OK)
    assert paid.status_code == 303
    assert parse_qs(urlsplit(paid.headers["location"]).query)["trial"] == ["true"]

    session = (await sandbox_http.get(f"/v1/checkout/sessions/{started['session_id']}")).json()
    subscription = (await sandbox_http.get(f"/v1/subscriptions/{session['subscription']}")).json()
    assert subscription["status"] == "trialing"
    assert subscription["metadata"] == {"tenant_id": tenant, "plan": "team"}
    assert subscription["trial_end"] - subscription["trial_start"] == 14 * 86_400

    result = await verify(client, auth(tenant), started["session_id"])
    assert result.json() == {
        "verified": True,
        "status": "complete",
        "payment_status": "no_payment_required",
        "plan": "team",
        "trial": True,
        "mode": "subscription",
        "payment_method": None,
        "made_default": False,
    }


async def test_a_declined_card_leaves_the_session_unverified(
    client: httpx.AsyncClient,
    sandbox_http: httpx.AsyncClient,
    auth: Auth,
    new_tenant: Callable[[], str],
) -> None:
    tenant = new_tenant()
    started = await start(client, auth(tenant), plan="enterprise")
    await pay(sandbox_http, started["session_id"], CARD_DECLINED)

    result = await verify(client, auth(tenant), started["session_id"])
    assert result.status_code == 200
    body = result.json()
    assert body["verified"] is False
    assert body["plan"] is None
    assert body["payment_status"] != "paid"


async def test_another_tenants_owner_cannot_verify_the_session(
    client: httpx.AsyncClient,
    sandbox_http: httpx.AsyncClient,
    auth: Auth,
    new_tenant: Callable[[], str],
) -> None:
    first, second = new_tenant(), new_tenant()
    started = await start(client, auth(first), plan="solo")
    await pay(sandbox_http, started["session_id"], CARD_OK)

    stolen = await verify(client, auth(second), started["session_id"])
    assert stolen.status_code == 403
    assert stolen.json()["error"]["code"] == "other_tenant"
    assert "verified" not in stolen.text


async def test_a_member_cannot_start_a_checkout(
    client: httpx.AsyncClient,
    sandbox_http: httpx.AsyncClient,
    auth: Auth,
    new_tenant: Callable[[], str],
) -> None:
    tenant = new_tenant()
    for role in ("member", "admin"):
        response = await client.post(
            "/api/billing/checkout", json={"plan": "solo"}, headers=auth(tenant, role)
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "owner_only"
        invalid = await client.post(  # refused before the body is looked at
            "/api/billing/checkout", json={"plan": ["solo"]}, headers=auth(tenant, role)
        )
        assert invalid.status_code == 403
    assert await customers_of(sandbox_http, tenant) == []


async def test_twenty_concurrent_checkouts_of_one_tenant_make_one_customer(
    client: httpx.AsyncClient,
    sandbox_http: httpx.AsyncClient,
    auth: Auth,
    new_tenant: Callable[[], str],
) -> None:
    tenant = new_tenant()
    headers = auth(tenant)

    async def one(n: int) -> httpx.Response:
        plan = ("solo", "team", "enterprise")[n % 3]
        return await client.post(
            "/api/billing/checkout",
            json={"plan": plan},
            headers={**headers, "Idempotency-Key": f"click-{n}"},
        )

    responses = await asyncio.gather(*(one(n) for n in range(20)))
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    assert len({r.json()["session_id"] for r in responses}) == 20

    customers = await customers_of(sandbox_http, tenant)
    assert len(customers) == 1
    sessions = await sandbox_http.get(
        "/v1/checkout/sessions", params={"customer": customers[0]["id"], "limit": 100}
    )
    assert len(sessions.json()["data"]) == 20


async def test_a_double_click_gets_the_same_session(
    client: httpx.AsyncClient, auth: Auth, new_tenant: Callable[[], str]
) -> None:
    tenant = new_tenant()
    first, second = await asyncio.gather(
        start(client, auth(tenant), plan="team"), start(client, auth(tenant), plan="team")
    )
    third = await start(client, auth(tenant), plan="team")
    assert first == second == third
    trial = await start(client, auth(tenant), plan="team", trial=True)
    assert trial["session_id"] != first["session_id"]


async def test_the_same_idempotency_key_returns_the_same_session(
    client: httpx.AsyncClient, auth: Auth, new_tenant: Callable[[], str]
) -> None:
    tenant = new_tenant()
    headers = {**auth(tenant), "Idempotency-Key": "order-1"}
    first = await start(client, headers, plan="solo")
    again = await start(client, headers, plan="solo")
    assert first == again
    reused = await client.post("/api/billing/checkout", json={"plan": "team"}, headers=headers)
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


async def test_the_owner_opens_the_customer_portal_once_a_customer_exists(
    client: httpx.AsyncClient,
    sandbox_http: httpx.AsyncClient,
    auth: Auth,
    new_tenant: Callable[[], str],
) -> None:
    tenant = new_tenant()
    none_yet = await client.get("/api/billing/checkout", headers=auth(tenant))
    assert none_yet.status_code == 404
    assert none_yet.json()["error"]["code"] == "no_customer"

    await start(client, auth(tenant), plan="solo")
    portal = await client.get("/api/billing/checkout", headers=auth(tenant))
    assert portal.status_code == 200, portal.text
    portal_id = portal.json()["url"].rsplit("/", 1)[1]
    assert portal_id.startswith("bps_")
    assert (
        await client.get("/api/billing/checkout", headers=auth(tenant, "member"))
    ).status_code == 403


async def test_a_card_saved_in_setup_mode_becomes_the_default_on_the_owners_return(
    client: httpx.AsyncClient,
    sandbox_http: httpx.AsyncClient,
    auth: Auth,
    new_tenant: Callable[[], str],
) -> None:
    tenant = new_tenant()
    bought = await start(client, auth(tenant), plan="solo")
    assert (await pay(sandbox_http, bought["session_id"], CARD_OK)).status_code == 303
    opened = await client.post("/api/billing/payment-methods/setup", headers=auth(tenant))
    assert opened.status_code == 200, opened.text
    setup_id = opened.json()["url"].rsplit("/", 1)[-1]
    saved = await pay(sandbox_http, setup_id, "5555555555554444")
    assert saved.status_code == 303, saved.text

    member = await verify(client, auth(tenant, "member"), setup_id)
    assert member.json()["made_default"] is False  # a member's visit changes nothing
    result = await verify(client, auth(tenant), setup_id)

    body = result.json()
    assert (body["verified"], body["mode"], body["made_default"]) == (True, "setup", True)
    assert body["payment_method"]["last4"] == "4444"
    assert body["payment_method"]["brand"] == "mastercard"
    method = body["payment_method"]["id"]
    [customer] = await customers_of(sandbox_http, tenant)
    assert customer["invoice_settings"]["default_payment_method"] == method
    subs = (await sandbox_http.get("/v1/subscriptions", params={"customer": customer["id"]})).json()
    assert [sub["default_payment_method"] for sub in subs["data"]] == [method]
