"""Routes read the context their service's lifespan installed, typed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_platform.http.context import context_of, install_context
from fastapi import FastAPI, Request

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class GreetingContext:
    word: str


@dataclass(frozen=True)
class OtherContext:
    word: str


def app_with(context: object | None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if context is not None:
            install_context(app, context)
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def greet(request: Request) -> dict[str, str]:
        return {"word": context_of(request, GreetingContext).word}

    return app


async def answer(app: FastAPI) -> httpx.Response:
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/")


async def test_a_route_reads_the_context_the_lifespan_installed() -> None:
    response = await answer(app_with(GreetingContext(word="hello")))
    assert response.json() == {"word": "hello"}


@pytest.mark.parametrize("context", [None, OtherContext(word="hello")])
async def test_a_missing_or_foreign_context_is_an_error(context: object | None) -> None:
    assert (await answer(app_with(context))).status_code == 500
