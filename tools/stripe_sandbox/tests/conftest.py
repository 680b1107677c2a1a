"""The sandbox served in-process on a free port, a webhook receiver, and journey helpers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import stripe
import uvicorn
from fastapi import FastAPI, Request, Response
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.server import RunningSandbox, running
from stripe_sandbox.testing import API_KEY, Journey


@dataclass
class Receiver:
    """Collects webhook deliveries; ``fail_next`` answers 500 to that many requests."""

    url: str = ""
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_next: int = 0

    def reset(self) -> None:
        self.deliveries.clear()
        self.fail_next = 0


@contextlib.asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        if rec.fail_next > 0:
            rec.fail_next -= 1
            return Response(status_code=500)
        rec.deliveries.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    async with _serve(app) as url:
        rec.url = f"{url}/hook"
        yield rec


@pytest.fixture(scope="session")
async def sandbox() -> AsyncIterator[RunningSandbox]:
    config = SandboxConfig(port=0, webhook_retry_schedule=(0.05, 0.1, 0.2))
    async with running(config) as served:
        yield served


@pytest.fixture
async def http(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as client:
        await client.post("/_sandbox/reset")
        yield client


@pytest.fixture
def client(sandbox: RunningSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY,
        base_addresses={"api": sandbox.url},
        http_client=stripe.HTTPXClient(),
        max_network_retries=0,
    )


@pytest.fixture
def journey(client: stripe.StripeClient, http: httpx.AsyncClient) -> Journey:
    return Journey(client, http)
