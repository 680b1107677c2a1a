"""The web pages' ASGI app and the dev-only sign-in of ``billing dev``."""

from __future__ import annotations

import httpx
import jwt
import pytest
from billing_cli.dev_web import DevSignIn, dev_web_app
from billing_cli.web import WEB_ROOT, web_app
from billing_platform.settings import BillingSettings
from starlette.types import ASGIApp

pytestmark = pytest.mark.unit

SECRET = "a-dev-secret-long-enough-for-hs256-keys"


def _client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/", "Home"),
        ("/pricing", "Pricing"),
        ("/settings", "Settings"),
        ("/settings/billing", "Billing settings"),
        ("/admin/webhooks", "Webhook events"),
        ("/admin/payments", "Failed payments"),
        ("/admin/metrics", "Revenue metrics"),
        ("/admin/notifications", "Billing emails"),
    ],
)
async def test_each_page_is_served_on_its_path_with_a_strict_policy(path: str, title: str) -> None:
    async with _client(web_app()) as client:
        answer = await client.get(path)
    assert answer.status_code == 200
    assert f"<title>{title} · Billing</title>" in answer.text
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_static_files_and_html_names_are_served() -> None:
    async with _client(web_app()) as client:
        script = await client.get("/js/api.js")
        style = await client.get("/css/app.css")
        redirect = await client.get("/pricing.html?x=1")
        missing = await client.get("/js/nope.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.status_code == 200
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/pricing?x=1")
    assert missing.status_code == 404


async def test_without_the_dev_sign_in_there_is_no_way_to_mint_tokens() -> None:
    async with _client(web_app()) as client:
        page = await client.get("/dev/sign-in")
        token = await client.post("/dev/token", json={"tenant_id": "t", "role": "owner"})
    assert page.status_code == 404
    assert token.status_code in (404, 405)
    assert "token" not in token.text


async def test_dev_sign_in_mints_tokens_for_owner_member_and_operator() -> None:
    app = web_app(extra_routes=DevSignIn(jwt_secret=SECRET).routes())
    async with _client(app) as client:
        page = await client.get("/dev/sign-in")
        script = await client.get("/dev/sign-in.js")
        answers = {
            role: await client.post("/dev/token", json={"tenant_id": "tenant_x", "role": role})
            for role in ("owner", "member", "operator")
        }
    assert page.status_code == 200
    assert "Development only" in page.text
    assert "javascript" in script.headers["content-type"]
    claims = {
        role: jwt.decode(answer.json()["token"], SECRET, algorithms=["HS256"])
        for role, answer in answers.items()
    }
    assert claims["owner"]["role"] == "owner"
    assert claims["member"]["role"] == "member"
    assert claims["operator"]["role"] == "admin"
    assert claims["operator"]["scope"] == "billing:admin"
    assert "scope" not in claims["owner"]
    assert {c["tenant_id"] for c in claims.values()} == {"tenant_x"}
    assert {c["iss"] for c in claims.values()} == {"billing-dev"}  # never billing serve's


async def test_dev_token_carries_the_optional_tenant_name_for_the_header() -> None:
    async with _client(web_app(extra_routes=DevSignIn(jwt_secret=SECRET).routes())) as client:
        named = await client.post(
            "/dev/token", json={"tenant_id": "t", "role": "owner", "tenant_name": " Acme Inc "}
        )
        unnamed = await client.post("/dev/token", json={"tenant_id": "t", "role": "owner"})
        blank = await client.post(
            "/dev/token", json={"tenant_id": "t", "role": "owner", "tenant_name": "  "}
        )
        favicon = await client.get("/favicon.svg")

    def decode(answer: httpx.Response) -> dict[str, object]:
        claims: dict[str, object] = jwt.decode(answer.json()["token"], SECRET, algorithms=["HS256"])
        return claims

    assert decode(named)["tenant_name"] == "Acme Inc"
    assert "tenant_name" not in decode(unnamed)
    assert "tenant_name" not in decode(blank)
    assert favicon.status_code == 200
    assert favicon.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"tenant_id": "tenant_x", "role": "superuser"}, 422, "invalid_role"),
        ({"tenant_id": "bad tenant!", "role": "owner"}, 422, "invalid_tenant"),
        ({"tenant_id": "", "role": "owner"}, 422, "invalid_tenant"),
        (["tenant_x"], 422, "invalid_tenant"),
        ({"tenant_id": "tenant_x", "role": "owner", "tenant_name": 7}, 422, "invalid_tenant_name"),
        (
            {"tenant_id": "tenant_x", "role": "owner", "tenant_name": "x" * 81},
            422,
            "invalid_tenant_name",
        ),
    ],
)
async def test_dev_token_refuses_bad_input(body: object, status: int, code: str) -> None:
    async with _client(web_app(extra_routes=DevSignIn(jwt_secret=SECRET).routes())) as client:
        answer = await client.post("/dev/token", json=body)
        form = await client.post("/dev/token", data={"tenant_id": "t", "role": "owner"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert form.status_code == 415


async def test_dev_web_app_has_the_sign_in_only_with_a_shared_secret() -> None:
    with_secret = dev_web_app(BillingSettings(jwt_secret=SECRET))
    rs256_only = dev_web_app(BillingSettings(jwt_public_key="-----BEGIN PUBLIC KEY-----x"))
    async with _client(with_secret) as client:
        assert (await client.get("/dev/sign-in")).status_code == 200
    async with _client(rs256_only) as client:
        assert (await client.get("/dev/sign-in")).status_code == 404


def test_web_root_is_the_repository_web_folder() -> None:
    assert (WEB_ROOT / "pricing.html").is_file()
