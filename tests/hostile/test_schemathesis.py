"""schemathesis against every service's own OpenAPI document, in-process (ASGI).

Each operation of each service, with each kind of caller (an owner, a member, an
operator with ``billing:admin``, and invalid tokens: garbage, expired, ``alg: none``),
gets schema-generated requests, valid and (where the operation takes input) invalid.
Every answer must not be a 5xx and must be documented: its status code, content type
and body conform to the service's OpenAPI. With an invalid token, no operation that
needs one may succeed.

The requests go through ``httpx.ASGITransport`` on the test's event loop, to apps
whose lifespans run there too (the sandbox serves on that loop, so a blocking
client would stall it); schemathesis generates the cases and validates the answers.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import schemathesis
from billing_cli.services import SERVICES
from billing_cli.testing.in_process import Running, Tokens, Webhooks
from billing_platform.settings import BillingSettings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAX_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CALLERS = ("owner", "member", "operator", "garbage", "expired", "alg_none")
UNAUTHENTICATED_PATHS = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/webhooks/stripe",
    "/api/billing/plans",  # public by contract (ARCHITECTURE 8.2): a token is ignored
}


def _schema(service: str) -> Any:
    """The service's OpenAPI document; building the app does no I/O (no lifespan)."""
    offline = BillingSettings(jwt_secret="openapi-only-0123456789", stripe_api_key="sk_test_x")
    return schemathesis.openapi.from_dict(SERVICES[service].create_app(offline).openapi())


SCHEMAS = {service: _schema(service) for service in SERVICES}
OPERATIONS = [
    (service, result.ok())
    for service, schema in SCHEMAS.items()
    for result in schema.get_all_operations()
]


def _takes_input(operation: Any) -> bool:
    return bool(operation.body or operation.query or operation.path_parameters)


def _cases(operation: Any) -> st.SearchStrategy[Any]:
    positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    if not _takes_input(operation):
        return positive  # type: ignore[no-any-return]
    return st.one_of(positive, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))


def _named_tenant(case: Any) -> str | None:
    """The tenant a case names (subscriptions' ``tenant_id`` / ``X-Tenant-ID``), if any."""
    query = case.query if isinstance(case.query, dict) else {}
    headers = case.headers if isinstance(case.headers, dict) else {}
    named = query.get("tenant_id") or headers.get("X-Tenant-ID")
    return named if isinstance(named, str) and named else None


def _token(tokens: Tokens, caller: str, tenant: str) -> str:
    if caller in ("owner", "member"):
        return str(tokens.valid(tenant, caller))
    if caller == "operator":
        return str(tokens.valid(tenant, "admin", operator=True))
    return str(tokens.bad(caller, tenant))


def _send_kwargs(case: Any, token: str) -> dict[str, Any]:
    """schemathesis' requests-style serialisation of the case, as httpx arguments."""
    kwargs = case.as_transport_kwargs(base_url="http://service")
    headers = {
        name: value.encode("latin-1") if isinstance(value, str) else value
        for name, value in kwargs["headers"].items()
        if name.lower() != "authorization"
    }
    headers["Authorization"] = f"Bearer {token}".encode()
    send: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": headers,
        "params": kwargs.get("params") or None,
    }
    if kwargs.get("cookies"):
        send["cookies"] = kwargs["cookies"]
    if "json" in kwargs:
        send["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), bytes | str):
        send["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        send["data"] = kwargs["data"]
    if kwargs.get("files"):
        send["files"] = kwargs["files"]
    return send


@pytest.fixture(scope="module", autouse=True)
async def event_log(running: Running, webhooks: Webhooks) -> None:
    """A few stored webhook events, so the operators' list answers with real rows."""
    stored: list[tuple[str, dict[str, Any]]] = [
        ("customer.created", {"id": "cus_hostile", "metadata": {}}),
        ("customer.subscription.updated", {"id": "sub_x", "customer": "cus_nobody"}),
        ("invoice.paid", {"id": "in_x", "customer": "cus_nobody", "metadata": {"tenant_id": "t"}}),
    ]
    for event_type, obj in stored:
        payload = json.dumps(webhooks.event(obj, event_type)).encode()
        response = await running.clients["webhooks"].post(
            "/api/webhooks/stripe", content=payload, headers=webhooks.signed(payload)
        )
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("service", "operation"),
    OPERATIONS,
    ids=[f"{service}:{op.method.upper()} {op.path}" for service, op in OPERATIONS],
)
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
async def test_every_answer_is_documented_and_never_a_server_error(
    running: Running, tokens: Tokens, service: str, operation: Any, caller: str, data: st.DataObject
) -> None:
    case = data.draw(_cases(operation), label="case")
    # Mostly the caller belongs to the tenant the case names, so the owner's and
    # member's requests get past the tenant check into the use cases.
    named = _named_tenant(case)
    own = named is not None and data.draw(
        st.sampled_from((True, False)), label="caller of the named tenant"
    )
    tenant = named if own and named is not None else tokens.new_tenant()
    send = _send_kwargs(case, _token(tokens, caller, tenant))
    response: httpx.Response = await running.clients[service].request(**send)
    case.validate_response(response, checks=CHECKS)
    if caller not in ("owner", "member", "operator") and operation.path not in (
        UNAUTHENTICATED_PATHS
    ):
        assert response.status_code >= 400, (caller, response.status_code, response.text)
