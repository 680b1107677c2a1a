"""``billing dev``'s sign-in: ``GET /dev/sign-in`` (a page) and ``POST /dev/token``.

It mints tokens for demo tenants, any role, with the dev JWT secret, so it is for
``billing dev`` alone: every token carries ``iss: billing-dev``, which the services'
verifier refuses (``billing_platform.http.dev_tokens``); ``billing dev`` listens on
loopback only unless told otherwise; the production image does not contain this
module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from billing_platform.http.dev_tokens import DEV_ISSUER
from billing_platform.http.tokens import mint_token
from billing_platform.settings import BillingSettings
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from billing_cli.web import PAGE_HEADERS, web_app

SIGN_IN_ROOT = Path(__file__).resolve().parent / "dev_sign_in"
DEMO_TENANTS = ("tenant_demo", "tenant_acme", "tenant_globex")
DEV_ROLES = ("owner", "member", "operator")
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TOKEN_TTL_SECONDS = 8 * 3600


@dataclass(frozen=True, kw_only=True)
class DevSignIn:
    """Mints tokens shaped like the host product's for demo tenants (``billing dev`` only)."""

    jwt_secret: str
    audience: str | None = None

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> DevSignIn | None:
        if not settings.jwt_secret:
            return None  # RS256 only: tokens come from the real identity provider
        return cls(jwt_secret=settings.jwt_secret, audience=settings.jwt_audience)

    def mint(self, tenant_id: str, role: str, tenant_name: str | None = None) -> str:
        operator = role == "operator"
        return mint_token(
            self.jwt_secret,
            tenant_id=tenant_id,
            role="admin" if operator else role,
            user_id=f"dev_{role}_{tenant_id}",
            scopes=("billing:admin",) if operator else (),
            ttl_seconds=TOKEN_TTL_SECONDS,
            audience=self.audience,
            issuer=DEV_ISSUER,  # refused by every service but billing dev's own
            tenant_name=tenant_name,
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
        name = body.get("tenant_name")
        if name is not None and (not isinstance(name, str) or len(name.strip()) > 80):
            return _error(422, "invalid_tenant_name", "tenant_name: text of at most 80 characters")
        token = self.mint(tenant_id, role, (name or "").strip() or None)
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


def dev_web_app(settings: BillingSettings) -> ASGIApp:
    """``billing dev``'s fallback: the pages, plus the dev-only sign-in."""
    sign_in = DevSignIn.from_settings(settings)
    return web_app(extra_routes=sign_in.routes() if sign_in else ())
