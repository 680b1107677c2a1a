"""U+0000 in every string a caller controls. Postgres' text and jsonb cannot hold it, so a
value that reaches a query unchecked is a 500; each must be a 4xx in the error shape.
(schemathesis rarely generates NUL in query strings; this table does it on purpose.)"""

from __future__ import annotations

import pytest
from billing_cli.testing.in_process import Running, Tokens

pytestmark = pytest.mark.integration

NUL = "\x00"
CASES = [
    # (caller, method, path, params, json body)
    ("owner", "POST", "/api/billing/checkout", None, {"plan": f"solo{NUL}"}),
    ("owner", "POST", "/api/billing/verify-session", None, {"session_id": f"cs_test_{NUL}"}),
    ("owner", "GET", "/api/billing/subscription", {"tenant_id": f"t{NUL}"}, None),
    ("owner", "DELETE", "/api/billing/subscription", {"tenant_id": f"t{NUL}"}, None),
    ("owner", "POST", "/api/billing/subscription/resume", {"tenant_id": f"t{NUL}"}, None),
    ("owner", "POST", "/api/billing/proration", None, {"plan": f"team{NUL}"}),
    ("owner", "POST", "/api/billing/subscription/plan", None, {"plan": f"team{NUL}"}),
    (
        "owner",
        "POST",
        "/api/billing/subscription/plan",
        None,
        {"plan": "team", "proration_date": f"2026-01-01T00:00:00Z{NUL}"},
    ),
    ("operator", "GET", "/api/webhooks/events", {"type": f"invoice{NUL}paid"}, None),
    ("operator", "GET", "/api/webhooks/events", {"status": f"failed{NUL}"}, None),
    ("operator", "GET", "/api/webhooks/events", {"cursor": f"1{NUL}"}, None),
    ("operator", "POST", "/api/webhooks/events/evt_%00/replay", None, None),
]


@pytest.mark.parametrize(
    ("caller", "method", "path", "params", "body"),
    CASES,
    ids=[f"{m} {p} {params or body}".replace(NUL, "<NUL>") for _, m, p, params, body in CASES],
)
async def test_a_nul_is_refused_with_a_4xx(
    running: Running,
    tokens: Tokens,
    caller: str,
    method: str,
    path: str,
    params: dict[str, str] | None,
    body: dict[str, str] | None,
) -> None:
    tenant = tokens.new_tenant()
    token = tokens.valid(tenant, "member", operator=True) if caller == "operator" else None
    headers = tokens.header(token or tokens.valid(tenant, caller))
    response = await running.gateway.request(
        method, path, params=params, json=body, headers=headers
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
