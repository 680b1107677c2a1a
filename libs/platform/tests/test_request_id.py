"""``RequestId``: the id the platform's middleware gave the request, as a route parameter."""

from __future__ import annotations

import httpx
import pytest
import structlog
from billing_platform.http.middleware import RequestContextMiddleware, RequestId
from fastapi import FastAPI


def _app(*, with_middleware: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/id")
    async def echo(request_id: RequestId) -> dict[str, str]:
        structlog.contextvars.clear_contextvars()  # what the route reads must not depend on it
        return {"request_id": request_id}

    if with_middleware:
        app.add_middleware(RequestContextMiddleware, service="test")
    return app


async def _get(app: FastAPI, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/id", headers=headers)


async def test_the_route_gets_the_id_the_response_echoes() -> None:
    app = _app(with_middleware=True)
    given = await _get(app, {"X-Request-ID": "req-42"})
    assert given.json() == {"request_id": "req-42"}
    assert given.headers["x-request-id"] == "req-42"
    generated = await _get(app, {"X-Request-ID": "bad id\t<script>"})
    assert generated.json()["request_id"] == generated.headers["x-request-id"]
    assert len(generated.headers["x-request-id"]) == 32


async def test_without_the_middleware_there_is_no_invented_id() -> None:
    with pytest.raises(RuntimeError, match="RequestContextMiddleware is not installed"):
        await _get(_app(with_middleware=False), {"X-Request-ID": "req-42"})
