"""Correctly signed tokens with odd claims, on every endpoint of the contract: claims of
the wrong type or not yet valid are a 401, and so is a token living longer than
``JWT_MAX_LIFETIME_SECONDS`` (24 h; an ``exp`` beyond any float is that too) or without
``iat``; odd but valid ones (a float ``exp``, ``iat``/``nbf`` a few seconds ahead: clock
skew) are served; nothing is a 5xx."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from billing_cli.testing.in_process import Running, Tokens

pytestmark = pytest.mark.e2e

SECRET = "hostile-jwt-secret-0123456789abcdef"  # the suite's JWT_SECRET (conftest)
ENDPOINTS = [
    ("POST", "/api/billing/checkout", {"plan": "solo"}),
    ("GET", "/api/billing/checkout", None),
    ("GET", "/api/billing/entitlements", None),
    ("POST", "/api/billing/verify-session", {"session_id": "cs_test_unknown"}),
    ("GET", "/api/billing/subscription", None),
    ("DELETE", "/api/billing/subscription", None),
    ("POST", "/api/billing/subscription/resume", None),
    ("POST", "/api/billing/proration", {"plan": "enterprise"}),
    ("POST", "/api/billing/subscription/plan", {"plan": "enterprise"}),
    ("GET", "/api/webhooks/events", None),
    ("POST", "/api/webhooks/events/evt_unknown/replay", None),
]
REFUSED = {
    "exp not a number": {"exp": "tomorrow"},
    "exp a boolean": {"exp": True},
    "iat not a number": {"iat": "now"},
    "iat in the future": {"iat": 3600},
    "nbf in the future": {"nbf": 3600},
    "no iat": {"iat": None},
    "lifetime beyond 24 h": {"exp": 86_400 + 60},
    "exp beyond any float": {"exp": 10**400},
    "tenant_id a number": {"tenant_id": 7},
    "tenant_id empty": {"tenant_id": ""},
    "sub a list": {"sub": ["u"]},
    "unknown role": {"role": "superuser"},
    "scope an object": {"scope": {"billing:admin": True}},
    "scope a list of numbers": {"scope": [1]},
}
SERVED = {
    "exp a float": {"exp": 3600.5},
    "iat 20 s ahead (clock skew)": {"iat": 20},
    "nbf 20 s ahead (clock skew)": {"nbf": 20},
    "scope a list": {"scope": ["billing:admin", "other"]},
}
RELATIVE = ("exp", "iat", "nbf")  # numbers given as offsets from now


def token(tenant: str, overrides: dict[str, Any]) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "user_odd", "tenant_id": tenant, "role": "owner"}
    claims["exp"], claims["iat"] = now + 3600, now
    for name, value in overrides.items():
        if value is None:
            del claims[name]
            continue
        relative = name in RELATIVE and type(value) in (int, float) and value < 10**12
        claims[name] = now + value if relative else value
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.mark.parametrize("claims", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.parametrize(
    ("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS]
)
async def test_signed_but_invalid_claims_are_401(
    running: Running,
    tokens: Tokens,
    method: str,
    path: str,
    body: Any,
    claims: dict[str, Any],
) -> None:
    headers = tokens.header(token(tokens.new_tenant(), claims))
    response = await running.gateway.request(method, path, json=body, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("claims", SERVED.values(), ids=SERVED.keys())
@pytest.mark.parametrize(
    ("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS]
)
async def test_odd_but_valid_claims_are_served(
    running: Running,
    tokens: Tokens,
    method: str,
    path: str,
    body: Any,
    claims: dict[str, Any],
) -> None:
    headers = tokens.header(token(tokens.new_tenant(), claims))
    response = await running.gateway.request(method, path, json=body, headers=headers)
    assert response.status_code < 500, response.text
    assert response.status_code != 401, response.text


async def test_a_tenant_id_holding_nul_is_401(running: Running, tokens: Tokens) -> None:
    headers = tokens.header(token("tenant\x00nul", {}))
    response = await running.gateway.get("/api/billing/subscription", headers=headers)
    assert response.status_code == 401, response.text
