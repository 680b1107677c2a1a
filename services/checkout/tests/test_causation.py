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


@pytest.mark.parametrize(
    ("sent", "plan"),
    [("req-causation-checkout-1", "team"), ("not sane <script>", "solo"), (None, "solo")],
)
async def test_published_events_carry_the_request_id_as_causation(
    bus_and_client: tuple[InMemoryBus, httpx.AsyncClient],
    auth: Callable[[str], dict[str, str]],
    new_tenant: Callable[[], str],
    sent: str | None,
    plan: str,
) -> None:
    """The X-Request-ID sent, or the id generated in its place (none, or not sane) and
    echoed on the response."""
    bus, client = bus_and_client
    tenant = new_tenant()
    headers = auth(tenant) if sent is None else {**auth(tenant), "X-Request-ID": sent}
    response = await client.post(CHECKOUT, json={"plan": plan}, headers=headers)
    assert response.status_code == 200, response.text
    request_id = response.headers["x-request-id"]
    assert request_id == sent if sent == "req-causation-checkout-1" else request_id != sent
    assert await wait_until(lambda: len(causations(bus, tenant)) == 2)  # customer + session
    assert causations(bus, tenant) == [request_id] * 2
