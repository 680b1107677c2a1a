"""The app factory: operations endpoints, error mapping, request ids, auth wiring."""

import gc
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_domain.auth import Principal
from billing_domain.errors import Conflict, Forbidden, GatewayUnavailable, NotFound, RuleViolated
from billing_platform.http.app import add_readiness_check, create_app
from billing_platform.http.auth import CurrentPrincipal
from billing_platform.http.tokens import mint_token
from billing_platform.settings import BillingSettings
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

pytestmark = pytest.mark.unit

SECRET = "k" * 32


class Body(BaseModel):
    plan: str


def _app(settings: BillingSettings | None = None) -> FastAPI:
    router = APIRouter()

    @router.get("/boom/{kind}")
    async def boom(kind: str) -> None:
        errors = {
            "404": NotFound("no such thing"),
            "409": Conflict("already", code="already_scheduled"),
            "403": Forbidden("not yours", code="other_tenant"),
            "422": RuleViolated("bad plan", code="unknown_plan"),
            "503": GatewayUnavailable("stripe down"),
        }
        if kind == "crash":
            raise RuntimeError("secret detail")
        if kind == "db":
            raise ConnectionRefusedError("db gone")
        raise errors[kind]

    @router.post("/body")
    async def body(payload: Body) -> dict[str, str]:
        return {"plan": payload.plan}

    @router.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"tenant_id": principal.tenant_id, "role": principal.role.value}

    return create_app(
        service="test", settings=settings or BillingSettings(jwt_secret=SECRET), routers=[router]
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_healthz_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    await client.get("/boom/404")
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert (
        'billing_http_requests_total{method="GET",route="/boom/{kind}",service="test",status="404"}'
        in metrics.text
    )


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("404", 404, "not_found"),
        ("409", 409, "already_scheduled"),
        ("403", 403, "other_tenant"),
        ("422", 422, "unknown_plan"),
        ("503", 503, "gateway_unavailable"),
        ("db", 503, "database_unavailable"),
        ("crash", 500, "internal_error"),
    ],
)
async def test_errors_have_one_shape(
    client: httpx.AsyncClient, kind: str, status: int, code: str
) -> None:
    response = await client.get(f"/boom/{kind}")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert "secret detail" not in response.text


async def test_validation_errors_are_422_in_the_same_shape(client: httpx.AsyncClient) -> None:
    for payload in ({}, {"plan": 3}, None):
        response = await client.post("/body", json=payload)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_request"
    garbage = await client.post(
        "/body", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 422


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    assert (await client.get("/nope")).json()["error"]["code"] == "not_found"
    assert (await client.delete("/healthz")).status_code == 405


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "req-123"})
    assert given.headers["x-request-id"] == "req-123"
    hostile = await client.get("/healthz", headers={"X-Request-ID": 'a b"<script>'})
    assert hostile.headers["x-request-id"] != 'a b"<script>'
    assert len(hostile.headers["x-request-id"]) == 32


async def test_auth_dependency(client: httpx.AsyncClient) -> None:
    assert (await client.get("/me")).status_code == 401
    assert (await client.get("/me", headers={"Authorization": "Basic abc"})).status_code == 401
    bad = await client.get("/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "unauthorized"
    token = mint_token(SECRET, tenant_id="t42", role="member")
    ok = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert ok.json() == {"tenant_id": "t42", "role": "member"}


async def test_without_a_jwt_key_every_token_is_a_401_not_a_crash() -> None:
    transport = httpx.ASGITransport(app=_app(BillingSettings()), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        token = mint_token(SECRET, tenant_id="t42", role="member")
        answer = await c.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert "JWT_SECRET" in answer.json()["error"]["message"]


async def test_readyz_reports_each_check() -> None:
    app = _app()

    async def fine() -> None:
        return None

    async def broken() -> None:
        raise ConnectionError("down")

    add_readiness_check(app, "database", fine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        assert (await c.get("/readyz")).status_code == 200
        add_readiness_check(app, "broker", broken)
        response = await c.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unavailable"},
    }


async def test_every_request_is_counted_under_its_route_and_status(
    client: httpx.AsyncClient,
) -> None:
    sample = 'billing_http_requests_total{method="GET",route="/boom/{kind}",service="test",'

    async def counted(status: str) -> float:
        text = (await client.get("/metrics")).text
        line = next(
            (x for x in text.splitlines() if x.startswith(f'{sample}status="{status}"}}')), ""
        )
        return float(line.rsplit(" ", 1)[1]) if line else 0.0

    before = {status: await counted(status) for status in ("404", "409")}
    for kind in ("404", "409", "404", "404"):
        await client.get(f"/boom/{kind}")
    assert await counted("404") == before["404"] + 3
    assert await counted("409") == before["409"] + 1


async def test_what_startup_built_is_frozen_out_of_the_collector_while_the_app_runs() -> None:
    before = gc.get_freeze_count()
    async with LifespanManager(_app()):
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0  # the way out gives the heap back to the collector


def test_principal_type_is_the_domains() -> None:
    assert Principal.__module__ == "billing_domain.auth"
