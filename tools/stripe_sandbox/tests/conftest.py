"""The sandbox served in-process on a free port, a webhook receiver, and journey helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import stripe
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.server import RunningSandbox, running
from stripe_sandbox.testing import API_KEY, Journey, Receiver, serve_receiver


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver() as rec:
        yield rec


@pytest.fixture
def hooks(receiver: Receiver) -> Receiver:
    receiver.reset()
    return receiver


@pytest.fixture(scope="session")
async def sandbox() -> AsyncIterator[RunningSandbox]:
    config = SandboxConfig(port=0, webhook_retry_schedule=(0.05, 0.1, 0.2))
    async with running(config) as served:
        yield served


@pytest.fixture
async def http(shared_http: httpx.AsyncClient) -> httpx.AsyncClient:
    """The sandbox's HTTP client, after resetting the sandbox for this test."""
    response = await shared_http.post("/_sandbox/reset")
    assert response.status_code == 200
    return shared_http


@pytest.fixture(scope="session")
async def shared_http(sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as client:
        yield client


@pytest.fixture(scope="session")
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
