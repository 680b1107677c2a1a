"""The causation id of what a checkout request publishes is the request's id, passed
explicitly: it does not come back out of the log context."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.settings import BillingSettings
from billing_platform.testing.log_context import without_log_context
from billing_platform.testing.waiting import wait_until
from checkout.main import create_app

pytestmark = pytest.mark.integration

CHECKOUT = "/api/billing/checkout"


@pytest.fixture
async def bus_and_client(
    settings: BillingSettings,
) -> AsyncIterator[tuple[InMemoryBus, httpx.AsyncClient]]:
    bus = InMemoryBus()
    app = without_log_context(create_app(settings, bus=bus))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://checkout") as client:
            yield bus, client
    await bus.close()


def causations(bus: InMemoryBus, tenant: str) -> list[str]:
    bodies = [json.loads(message.body) for message in bus.published]
    return [body["causation_id"] for body in bodies if body["tenant_id"] == tenant]


async def test_published_events_carry_the_request_id_as_causation(
    bus_and_client: tuple[InMemoryBus, httpx.AsyncClient],
    auth: Callable[[str], dict[str, str]],
    new_tenant: Callable[[], str],
) -> None:
    bus, client = bus_and_client
    tenant = new_tenant()
    headers = {**auth(tenant), "X-Request-ID": "req-causation-checkout-1"}
    response = await client.post(CHECKOUT, json={"plan": "team"}, headers=headers)
    assert response.status_code == 200, response.text
    assert await wait_until(lambda: len(causations(bus, tenant)) == 2)  # customer + session
    assert causations(bus, tenant) == ["req-causation-checkout-1"] * 2


async def test_without_a_request_id_header_the_generated_one_is_the_causation(
    bus_and_client: tuple[InMemoryBus, httpx.AsyncClient],
    auth: Callable[[str], dict[str, str]],
    new_tenant: Callable[[], str],
) -> None:
    bus, client = bus_and_client
    tenant = new_tenant()
    hostile = {**auth(tenant), "X-Request-ID": "not sane <script>"}
    response = await client.post(CHECKOUT, json={"plan": "solo"}, headers=hostile)
    assert response.status_code == 200, response.text
    generated = response.headers["x-request-id"]
    assert generated != "not sane <script>"
    assert await wait_until(lambda: len(causations(bus, tenant)) == 2)
    assert causations(bus, tenant) == [generated] * 2
