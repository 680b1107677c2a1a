"""The reference web pages (``web/``) as an ASGI app, and ``billing dev``'s sign-in.

``billing dev`` mounts :func:`dev_web_app` as the gateway's fallback: every path
no service owns is a page or a static file of ``web/``. The pages are static
(no build step) and call only the public HTTP API with a bearer token.

The dev sign-in (``GET /dev/sign-in``, ``POST /dev/token``) mints tokens for demo
tenants with the dev JWT secret. It exists only here, in ``billing dev``: the
production gateway (nginx) serves ``web/`` without it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from billing_platform.http.tokens import mint_token
from billing_platform.settings import BillingSettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

Endpoint = Callable[[Request], Awaitable[Response]]

# tools/cli/src/billing_cli/web.py -> the repository root holds web/.
WEB_ROOT = Path(__file__).resolve().parents[4] / "web"
SIGN_IN_ROOT = Path(__file__).resolve().parent / "dev_sign_in"

PAGES = {
    "/": "index.html",
    "/pricing": "pricing.html",
    "/settings": "settings.html",
    "/settings/billing": "billing.html",
    "/admin/webhooks": "webhooks.html",
}
DEMO_TENANTS = ("tenant_demo", "tenant_acme", "tenant_globex")
DEV_ROLES = ("owner", "member", "operator")
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TOKEN_TTL_SECONDS = 8 * 3600

# The pages load only their own scripts and styles; API data is inserted as text.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


def _not_found(path: str) -> Response:
    body = {"error": {"code": "not_found", "message": f"nothing is served at {path}"}}
    return JSONResponse(body, status_code=404)


def _page(file: Path) -> Endpoint:
    exists = file.is_file()  # checked once, when the app is built

    async def endpoint(request: Request) -> Response:
        if not exists:
            return _not_found(request.url.path)
        return FileResponse(file, headers=PAGE_HEADERS)

    return endpoint


def page_routes(root: Path) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for path, name in PAGES.items():
        routes.append(Route(path, _page(root / name), methods=["GET", "HEAD"]))
        if path != "/":
            routes.append(Route(f"{path}.html", _redirect_to(path), methods=["GET", "HEAD"]))
    return routes


def _redirect_to(path: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(path + query, status_code=308)

    return endpoint


@dataclass(frozen=True, kw_only=True)
class DevSignIn:
    """Mints tokens shaped like the host product's for demo tenants (``billing dev`` only)."""

    jwt_secret: str
    audience: str | None = None
    issuer: str | None = None

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> DevSignIn | None:
        if not settings.jwt_secret:
            return None  # RS256 only: tokens come from the real identity provider
        return cls(
            jwt_secret=settings.jwt_secret,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )

    def mint(self, tenant_id: str, role: str) -> str:
        operator = role == "operator"
        return mint_token(
            self.jwt_secret,
            tenant_id=tenant_id,
            role="admin" if operator else role,
            user_id=f"dev_{role}_{tenant_id}",
            scopes=("billing:admin",) if operator else (),
            ttl_seconds=TOKEN_TTL_SECONDS,
            audience=self.audience,
            issuer=self.issuer,
        )

    def routes(self, root: Path = SIGN_IN_ROOT) -> list[BaseRoute]:
        page = root / "sign-in.html"
        script = root / "sign-in.js"

        async def sign_in_page(request: Request) -> Response:
            return FileResponse(page, headers=PAGE_HEADERS)

        async def sign_in_script(request: Request) -> Response:
            return FileResponse(script, media_type="text/javascript")

        return [
            Route("/dev/sign-in", sign_in_page, methods=["GET", "HEAD"]),
            Route("/dev/sign-in.js", sign_in_script, methods=["GET", "HEAD"]),
            Route("/dev/token", self._token, methods=["POST"]),
            Route("/dev/tenants", _tenants, methods=["GET"]),
        ]

    async def _token(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _error(415, "unsupported_media_type", "send a JSON body")
        try:
            body = await request.json()
        except ValueError:
            return _error(422, "invalid_request", "the body is not valid JSON")
        tenant_id = body.get("tenant_id") if isinstance(body, dict) else None
        role = body.get("role") if isinstance(body, dict) else None
        if not isinstance(tenant_id, str) or not TENANT_PATTERN.match(tenant_id):
            return _error(422, "invalid_tenant", "tenant_id: 1-64 letters, digits, _ or -")
        if role not in DEV_ROLES:
            return _error(422, "invalid_role", "role: owner, member or operator")
        token = self.mint(tenant_id, role)
        return JSONResponse(
            {
                "token": token,
                "tenant_id": tenant_id,
                "role": role,
                "expires_in": TOKEN_TTL_SECONDS,
            },
            headers={"Cache-Control": "no-store"},
        )


async def _tenants(request: Request) -> Response:
    return JSONResponse({"tenants": list(DEMO_TENANTS), "roles": list(DEV_ROLES)})


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def web_app(root: Path = WEB_ROOT, *, sign_in: DevSignIn | None = None) -> ASGIApp:
    """The pages of ``root`` on their paths, its other files as static files."""
    routes = page_routes(root)
    if sign_in is not None:
        routes += sign_in.routes()
    routes.append(Mount("/", app=StaticFiles(directory=root, check_dir=False)))
    return Starlette(routes=routes)


def dev_web_app(settings: BillingSettings) -> ASGIApp:
    """``billing dev``'s fallback: the pages, plus the dev-only sign-in."""
    return web_app(sign_in=DevSignIn.from_settings(settings))
