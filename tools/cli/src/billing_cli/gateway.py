"""The in-process gateway of ``billing dev``: nginx's routing table as an ASGI app.

Requests go, unchanged, to the service that owns their path prefix (the same
table as ``deploy/gateway/nginx.conf``); ``/healthz``, ``/readyz`` and
``/metrics`` answer for the whole process. Each service's lifespan runs as
it would in its own process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from billing_platform.metrics import render_latest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send


class DevGateway:
    def __init__(self, routes: Sequence[tuple[str, FastAPI]], fallback: ASGIApp | None = None):
        # Longest prefix first, so /api/billing/subscription/plan beats shorter ones.
        self._routes = sorted(routes, key=lambda item: len(item[0]), reverse=True)
        self._apps = list(dict.fromkeys(app for _, app in routes))
        self._fallback = fallback

    @asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for app in self._apps:
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    def route(self, path: str) -> FastAPI | None:
        for prefix, app in self._routes:
            if path == prefix.rstrip("/") or path.startswith(prefix):
                return app
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path in ("/healthz", "/readyz", "/metrics"):
            await self._operations(path)(scope, receive, send)
            return
        app = self.route(path)
        if app is not None:
            await app(scope, receive, send)
        elif self._fallback is not None and not path.startswith("/api/"):
            await self._fallback(scope, receive, send)
        else:  # an API path no service serves: the API's error shape, not a page's 404
            body = {"error": {"code": "not_found", "message": f"no service serves {path}"}}
            await JSONResponse(body, status_code=404)(scope, receive, send)

    def _operations(self, path: str) -> ASGIApp:
        async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
            if path == "/healthz":
                response: Response = JSONResponse({"status": "ok"})
            elif path == "/metrics":
                payload, content_type = render_latest()
                response = Response(payload, media_type=content_type)
            else:
                response = await self._readiness(Request(scope))
            await response(scope, receive, send)

        return endpoint

    async def _readiness(self, request: Request) -> JSONResponse:
        results = await asyncio.gather(*(_ready(app) for app in self._apps))
        checks = {app.state.service: ok for app, ok in zip(self._apps, results, strict=True)}
        ready = all(state == "ok" for state in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        async with AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self.lifespan())
            except BaseException as exc:
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                raise
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
        await send({"type": "lifespan.shutdown.complete"})


async def _ready(app: FastAPI) -> str:
    checks = app.state.readiness_checks
    try:
        await asyncio.gather(*(asyncio.wait_for(check(), 2.0) for check in checks.values()))
    except Exception:
        return "unavailable"
    return "ok"
