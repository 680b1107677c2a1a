"""The HTTP contract, black-box: hostile input, auth, limits, outages, the OpenAPI schema."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from billing_domain.plan_catalogue import COMPARISON_ROWS, plan_definition
from billing_domain.plans import PlanType
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.settings import BillingSettings
from checkout.main import create_app

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]
CHECKOUT = "/api/billing/checkout"
VERIFY = "/api/billing/verify-session"
PLANS = "/api/billing/plans"


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) >= {"code", "message"}
    if code is not None:
        assert error["code"] == code


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "invalid_request"),
        (b"", "invalid_request"),
        (b"[]", "invalid_request"),
        (b'"solo"', "invalid_request"),
        (b'{"plan": 3}', "invalid_request"),
        (b'{"plan": NaN}', "invalid_request"),
        (b"Infinity", "invalid_request"),
        (b'{"plan": "solo\\u0000"}', "unknown_plan"),
        (b'{"plan": null}', "invalid_request"),
        (b'{"plan": "solo", "trial": "yes"}', "invalid_request"),
        (b'{"plan": "platinum"}', "unknown_plan"),
        (b'{"plan": "free"}', "free_plan"),
        (b'{"plan": "solo", "trial": true}', "trial_not_offered"),
        (b'{"plan": "' + b"x" * 10_000 + b'"}', "invalid_request"),
    ],
)
async def test_bad_checkout_bodies_are_422(
    client: httpx.AsyncClient, auth: Auth, new_tenant: Callable[[], str], content: bytes, code: str
) -> None:
    headers = {**auth(new_tenant()), "Content-Type": "application/json"}
    response = await client.post(CHECKOUT, content=content, headers=headers)
    assert_error(response, 422, code)


@pytest.mark.parametrize(
    "session_id",
    ["", "abc", "cs_", "cs_../../v1/customers", "cs_test_a b", "cs_" + "a" * 300, "cs_tést", 42],
)
async def test_malformed_session_ids_are_422(
    client: httpx.AsyncClient, auth: Auth, new_tenant: Callable[[], str], session_id: Any
) -> None:
    response = await client.post(
        VERIFY, json={"session_id": session_id}, headers=auth(new_tenant())
    )
    assert_error(response, 422, "invalid_request")


async def test_an_unknown_session_is_404(
    client: httpx.AsyncClient, auth: Auth, new_tenant: Callable[[], str]
) -> None:
    response = await client.post(
        VERIFY, json={"session_id": "cs_test_doesnotexist"}, headers=auth(new_tenant())
    )
    assert_error(response, 404)


def _token(secret: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"sub": "u", "tenant_id": "t", "role": "owner", "exp": now + 60, **overrides}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, "HS256")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-jwt",
        "Bearer " + _token("checkout-tests-secret-0123456789", exp=int(time.time()) - 3600),
        "Bearer " + _token("another-secret-another-secret-00"),
        "Bearer " + _token("checkout-tests-secret-0123456789", tenant_id=None),
        "Bearer " + _token("checkout-tests-secret-0123456789", role="superuser"),
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", CHECKOUT, {"plan": "solo"}),
        ("GET", CHECKOUT, None),
        ("POST", VERIFY, {"session_id": "cs_test_x"}),
    ],
)
async def test_missing_expired_or_bad_tokens_are_401(
    client: httpx.AsyncClient, authorization: str | None, method: str, path: str, body: Any
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.request(method, path, json=body, headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_bad_idempotency_key_is_422(
    client: httpx.AsyncClient, auth: Auth, new_tenant: Callable[[], str]
) -> None:
    headers = {**auth(new_tenant()), "Idempotency-Key": "k" * 300}
    response = await client.post(CHECKOUT, json={"plan": "solo"}, headers=headers)
    assert_error(response, 422)


def plan_row(
    plan: str, name: str, month: int, year: int, trial_days: int, saving: int | None
) -> dict[str, object]:
    definition = plan_definition(PlanType(plan))
    return {
        "plan": plan,
        "name": name,
        "amount": month,
        "currency": "usd",
        "interval": "month",
        "interval_count": 1,
        "trial_days": trial_days,
        "prices": {
            "month": {"amount": month, "currency": "usd"},
            "year": {"amount": year, "currency": "usd"},
        },
        "yearly_saving_percent": saving,
        "summary": definition.summary,
        "features": definition.features.as_dict(),
        "limits": definition.limits.as_dict(),
    }


async def test_plans_are_public_with_both_intervals_and_features(
    client: httpx.AsyncClient, auth: Auth, new_tenant: Callable[[], str]
) -> None:
    response = await client.get(PLANS)  # no token: the pricing page before sign-in
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["plans"] == [
        plan_row("free", "Free", 0, 0, 0, None),
        plan_row("solo", "Solo", 900, 9000, 0, 17),
        plan_row("team", "Team", 2900, 29000, 14, 17),
        plan_row("enterprise", "Enterprise", 9900, 99000, 0, 17),
    ]
    assert [row["key"] for row in body["comparison"]] == [row.key for row in COMPARISON_ROWS]
    assert response.headers["Cache-Control"] == "public, max-age=300"
    etag = response.headers["ETag"]
    again = await client.get(PLANS, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    assert again.content == b""
    other = await client.get(PLANS, headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200
    signed_in = await client.get(PLANS, headers=auth(new_tenant(), "member"))
    assert signed_in.json() == body  # a token changes nothing (and is not required)


async def test_too_many_sessions_are_429_with_retry_after(
    settings: BillingSettings, auth: Auth, new_tenant: Callable[[], str]
) -> None:
    strict = settings.model_copy(update={"checkout_sessions_per_minute": 2})
    tenant = new_tenant()
    async with InMemoryBus() as bus, LifespanManager(app := create_app(strict, bus=bus)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
            for n in range(2):
                response = await client.post(
                    CHECKOUT,
                    json={"plan": "solo"},
                    headers={**auth(tenant), "Idempotency-Key": f"k{n}"},
                )
                assert response.status_code == 200
            limited = await client.get(CHECKOUT, headers=auth(tenant))
            assert_error(limited, 429, "rate_limited")
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
            other = await client.post(CHECKOUT, json={"plan": "solo"}, headers=auth(new_tenant()))
            assert other.status_code == 200


async def test_stripe_unreachable_is_503_and_stores_nothing(
    settings: BillingSettings, auth: Auth, new_tenant: Callable[[], str], migrated_url: str
) -> None:
    unreachable = settings.model_copy(update={"stripe_api_base": "http://127.0.0.1:9"})
    tenant = new_tenant()
    async with InMemoryBus() as bus, LifespanManager(app := create_app(unreachable, bus=bus)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
            response = await client.post(CHECKOUT, json={"plan": "solo"}, headers=auth(tenant))
            assert_error(response, 503, "stripe_unavailable")
            assert response.headers["Retry-After"]
    conn = await asyncpg.connect(migrated_url)
    try:
        for table in ("billing_customers", "checkout_sessions"):
            count = await conn.fetchval(
                f"SELECT count(*) FROM checkout.{table} WHERE tenant_id = $1", tenant
            )
            assert count == 0, table
        assert (
            await conn.fetchval("SELECT count(*) FROM checkout.outbox WHERE tenant_id = $1", tenant)
            == 0
        )
    finally:
        await conn.close()


@pytest.mark.parametrize("path", [CHECKOUT, VERIFY])
async def test_a_body_that_is_not_utf8_is_a_documented_400(
    client: httpx.AsyncClient, auth: Auth, new_tenant: Callable[[], str], path: str
) -> None:
    """Found by schemathesis (tests/hostile): FastAPI answers bytes it cannot decode with
    a 400 the schema did not list; the answer keeps the error shape and is documented."""
    headers = {**auth(new_tenant()), "Content-Type": "application/json"}
    response = await client.post(path, content=b'{"plan": "\xff\xfe"}', headers=headers)
    assert_error(response, 400, "bad_request")
    documented = (await client.get("/openapi.json")).json()["paths"][path]["post"]["responses"]
    assert "400" in documented


async def test_the_openapi_schema_documents_every_route(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    expected = {
        ("post", CHECKOUT): {"200", "400", "401", "403", "409", "422", "429", "503"},
        ("get", CHECKOUT): {"200", "401", "403", "404", "429", "503"},
        ("post", VERIFY): {"200", "400", "401", "403", "404", "422", "429", "503"},
    }
    for (method, path), statuses in expected.items():
        operation = paths[path][method]
        assert set(operation["responses"]) == statuses, (method, path)
        assert operation["security"] == [{"HTTPBearer": []}]
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in ok, (method, path)
        for status in statuses - {"200"}:
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)
        if method == "post":
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert "$ref" in body
    public = paths[PLANS]["get"]  # issue 19: the pricing page's catalogue needs no token
    assert set(public["responses"]) == {"200", "304", "503"}
    assert "security" not in public
    checkout_params = paths[CHECKOUT]["post"]["parameters"]
    assert [p["name"] for p in checkout_params] == ["Idempotency-Key"]
    components = schema["components"]["schemas"]
    for name in ("CheckoutBody", "CheckoutSessionOut", "PortalOut", "VerifyBody", "VerifyOut"):
        assert components[name]["properties"], name
    assert components["VerifyOut"]["required"] == [
        "verified",
        "status",
        "payment_status",
        "plan",
        "trial",
    ]
    assert "HTTPValidationError" not in components
