"""Who may call what, for every endpoint of the contract, through the gateway.

- every kind of bad token (and none) -> 401 ``unauthorized`` in the error shape;
- a member on every owner endpoint -> 403;
- anyone without ``billing:admin`` on the operator endpoints -> 403;
- another tenant: verifying a real checkout session of this tenant, and reading or
  changing this tenant's subscription by naming it -> 403, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from billing_cli.testing.in_process import Running, Tokens

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    body: dict[str, Any] | None
    who: str  # "owner" | "member" (any member of the tenant) | "operator"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    # checkout
    Endpoint("POST", "/api/billing/checkout", {"plan": "solo"}, "owner"),
    Endpoint("GET", "/api/billing/checkout", None, "owner"),
    Endpoint("POST", "/api/billing/verify-session", {"session_id": "cs_test_unknown"}, "member"),
    # subscriptions
    Endpoint("GET", "/api/billing/entitlements", None, "member"),
    Endpoint("DELETE", "/api/billing/subscription/pending-change", None, "owner"),
    Endpoint("GET", "/api/billing/subscription", None, "member"),
    Endpoint("GET", "/api/billing/checkout/trial", None, "member"),
    Endpoint("DELETE", "/api/billing/subscription", None, "owner"),
    Endpoint("POST", "/api/billing/subscription/resume", None, "owner"),
    Endpoint("POST", "/api/billing/proration", {"plan": "enterprise"}, "owner"),
    Endpoint("POST", "/api/billing/subscription/plan", {"plan": "enterprise"}, "owner"),
    Endpoint("POST", "/api/billing/subscription/trial/end", None, "owner"),
    Endpoint("POST", "/api/billing/subscription/trial/end/preview", None, "owner"),
    Endpoint("POST", "/api/billing/admin/tenants/t-unknown/trial", {"extend_days": 3}, "operator"),
    Endpoint("GET", "/api/billing/admin/trial-extensions", None, "operator"),
    # payment methods and invoices (issue 21)
    Endpoint("POST", "/api/billing/payment-methods/setup", None, "owner"),
    Endpoint("GET", "/api/billing/payment-methods", None, "member"),
    Endpoint("POST", "/api/billing/payment-methods/pm_unknown/default", None, "owner"),
    Endpoint("DELETE", "/api/billing/payment-methods/pm_unknown", None, "owner"),
    Endpoint("GET", "/api/billing/invoices", None, "member"),
    Endpoint("POST", "/api/billing/invoices/in_unknown/pay", None, "owner"),
    # webhooks (operators)
    Endpoint("GET", "/api/webhooks/events", None, "operator"),
    Endpoint("POST", "/api/webhooks/events/evt_unknown/replay", None, "operator"),
    Endpoint("GET", "/api/webhooks/events/evt_unknown", None, "operator"),
    # subscriptions (operators: the failed-payment queue)
    Endpoint("GET", "/api/billing/admin/past-due", None, "operator"),
    Endpoint("GET", "/api/billing/admin/tenants/t-unknown/actions", None, "operator"),
    Endpoint("POST", "/api/billing/admin/tenants/t-unknown/retry-payment", None, "operator"),
    Endpoint("POST", "/api/billing/admin/tenants/t-unknown/remind", None, "operator"),
]
OWNER_ENDPOINTS = [e for e in ENDPOINTS if e.who == "owner"]
OPERATOR_ENDPOINTS = [e for e in ENDPOINTS if e.who == "operator"]
TENANT_ENDPOINTS = [e for e in ENDPOINTS if e.path.startswith("/api/billing/subscription")] + [
    e
    for e in ENDPOINTS
    if e.path == "/api/billing/proration"
    or (e.path.startswith(("/api/billing/payment-methods/pm", "/api/billing/invoices")))
]


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, (response.request.url, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str), body
    assert isinstance(body["error"]["message"], str), body
    if code is not None:
        assert body["error"]["code"] == code, body


async def call(
    api: httpx.AsyncClient, endpoint: Endpoint, headers: dict[str, str], **params: str
) -> httpx.Response:
    return await api.request(
        endpoint.method, endpoint.path, json=endpoint.body, headers=headers, params=params or None
    )


@pytest.mark.parametrize("kind", Tokens.BAD_KINDS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_a_bad_token_is_401(
    running: Running, tokens: Tokens, endpoint: Endpoint, kind: str
) -> None:
    token = tokens.bad(kind, tokens.new_tenant())
    response = await call(running.gateway, endpoint, tokens.header(token))
    assert_error(response, 401, "unauthorized")
    assert response.headers.get("WWW-Authenticate") == "Bearer"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["no header", "empty bearer", "basic"],
)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_no_bearer_token_is_401(
    running: Running, endpoint: Endpoint, headers: dict[str, str]
) -> None:
    assert_error(await call(running.gateway, endpoint, headers), 401, "unauthorized")


@pytest.mark.parametrize("role", ["member", "admin"])
@pytest.mark.parametrize("endpoint", OWNER_ENDPOINTS, ids=str)
async def test_a_member_on_an_owner_endpoint_is_403(
    running: Running, tokens: Tokens, endpoint: Endpoint, role: str
) -> None:
    token = tokens.valid(tokens.new_tenant(), role)
    assert_error(await call(running.gateway, endpoint, tokens.header(token)), 403, "owner_only")


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
@pytest.mark.parametrize("endpoint", OPERATOR_ENDPOINTS, ids=str)
async def test_without_the_admin_scope_an_operator_endpoint_is_403(
    running: Running, tokens: Tokens, endpoint: Endpoint, role: str
) -> None:
    token = tokens.valid(tokens.new_tenant(), role)
    response = await call(running.gateway, endpoint, tokens.header(token))
    assert_error(response, 403, "missing_scope")


@pytest.mark.parametrize("endpoint", OPERATOR_ENDPOINTS, ids=str)
async def test_with_the_admin_scope_an_operator_endpoint_answers(
    running: Running, tokens: Tokens, endpoint: Endpoint
) -> None:
    """The control of the two tests above: the same calls, authorised, get past auth."""
    token = tokens.valid(tokens.new_tenant(), "member", operator=True)
    response = await call(running.gateway, endpoint, tokens.header(token))
    assert response.status_code in (200, 404), response.text


@pytest.fixture
async def session_of_a(running: Running, tokens: Tokens) -> tuple[str, str]:
    """Tenant A and a real Checkout session its owner started through the gateway, paid."""
    tenant = tokens.new_tenant()
    response = await running.gateway.post(
        "/api/billing/checkout",
        json={"plan": "team", "trial": True},
        headers=tokens.header(tokens.valid(tenant, "owner")),
    )
    assert response.status_code == 200, response.text
    session_id: str = response.json()["session_id"]
    assert session_id.startswith("cs_")
    await running.pay(session_id)
    return tenant, session_id


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
async def test_another_tenant_verifying_this_tenants_session_is_403(
    running: Running, tokens: Tokens, session_of_a: tuple[str, str], role: str
) -> None:
    tenant_a, session_id = session_of_a
    other = tokens.header(tokens.valid(tokens.new_tenant(), role))
    response = await running.gateway.post(
        "/api/billing/verify-session", json={"session_id": session_id}, headers=other
    )
    assert_error(response, 403, "other_tenant")
    # The control: the session is real and verifiable by its own tenant.
    own = tokens.header(tokens.valid(tenant_a, role))
    mine = await running.gateway.post(
        "/api/billing/verify-session", json={"session_id": session_id}, headers=own
    )
    assert mine.status_code == 200, mine.text
    assert (mine.json()["verified"], mine.json()["plan"]) == (True, "team")


@pytest.mark.parametrize("by", ["query", "header"])
@pytest.mark.parametrize("endpoint", TENANT_ENDPOINTS, ids=str)
async def test_naming_another_tenant_is_403_and_changes_nothing(
    running: Running, tokens: Tokens, session_of_a: tuple[str, str], endpoint: Endpoint, by: str
) -> None:
    tenant_a, _ = session_of_a
    before = await running.gateway.get(
        "/api/billing/subscription", headers=tokens.header(tokens.valid(tenant_a, "member"))
    )
    assert before.status_code == 200, before.text
    intruder = tokens.header(tokens.valid(tokens.new_tenant(), "owner"))
    if by == "query":
        response = await call(running.gateway, endpoint, intruder, tenant_id=tenant_a)
    else:
        response = await call(running.gateway, endpoint, {**intruder, "X-Tenant-ID": tenant_a})
    assert_error(response, 403, "other_tenant")
    after = await running.gateway.get(
        "/api/billing/subscription", headers=tokens.header(tokens.valid(tenant_a, "member"))
    )
    assert after.json() == before.json()
