"""Property test standing in for a schemathesis run: arbitrary JSON bodies, headers and
tokens never get a 5xx, and every error keeps the ``{"error": {...}}`` shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
BODIES = (
    JSON
    | st.fixed_dictionaries(
        {"plan": st.sampled_from(["free", "SOLO", " team ", "gold", ""]) | st.text(max_size=8)},
        optional={"trial": JSON},
    )
    | st.fixed_dictionaries({"session_id": st.from_regex(r"cs_[A-Za-z0-9_]{0,12}", fullmatch=True)})
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)
ENDPOINTS = st.sampled_from(
    [
        ("POST", "/api/billing/checkout"),
        ("GET", "/api/billing/checkout"),
        ("POST", "/api/billing/verify-session"),
        ("GET", "/api/billing/plans"),
    ]
)
ROLES = st.sampled_from(["owner", "admin", "member", None])


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(endpoint=ENDPOINTS, body=BODIES, role=ROLES, idempotency_key=st.none() | HEADER_TEXT)
async def test_no_input_gets_a_server_error(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    endpoint: tuple[str, str],
    body: Any,
    role: str | None,
    idempotency_key: str | None,
) -> None:
    method, path = endpoint
    headers = auth("tenant_fuzz", role) if role else {"Authorization": "Bearer x.y.z"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"code", "message"}
