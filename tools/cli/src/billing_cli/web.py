"""The reference web pages (``web/``) as an ASGI app.

``billing dev`` mounts it (``billing_cli.dev.dev_web_app``) as the gateway's fallback: every path
no service owns is a page or a static file of ``web/``. The pages are static
(no build step) and call only the public HTTP API with a bearer token.

The dev sign-in (``GET /dev/sign-in``, ``POST /dev/token``) lives in
``billing_cli.dev`` (``DevSignIn``): only ``billing dev`` mounts it, the production
gateway (nginx) serves ``web/`` without it, and the production image leaves it out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

Endpoint = Callable[[Request], Awaitable[Response]]

# tools/cli/src/billing_cli/web.py -> the repository root holds web/.
WEB_ROOT = Path(__file__).resolve().parents[4] / "web"

PAGES = {
    "/": "index.html",
    "/pricing": "pricing.html",
    "/settings": "settings.html",
    "/settings/billing": "billing.html",
    "/admin/webhooks": "webhooks.html",
    "/admin/payments": "admin-payments.html",
    "/admin/metrics": "admin-metrics.html",
    "/admin/notifications": "admin-notifications.html",
}

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


def web_app(root: Path = WEB_ROOT, *, extra_routes: Sequence[BaseRoute] = ()) -> ASGIApp:
    """The pages of ``root`` on their paths (and ``extra_routes``), its other files as
    static files."""
    routes = [*page_routes(root), *extra_routes]
    routes.append(Mount("/", app=StaticFiles(directory=root, check_dir=False)))
    return Starlette(routes=routes)
