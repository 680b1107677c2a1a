"""Stripe (the sandbox) failing while an event is processed: 429 and 500 answers and
slow responses are retried with backoff; nothing is marked processed that was not."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from billing_platform.settings import BillingSettings
from billing_platform.testing.waiting import wait_until
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.testing import API_KEY
from webhooks.main import create_app
from webhooks.testing import Builders, Signer, StartWebhooks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

StartReal = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def start_real(
    start_webhooks: StartWebhooks,
    stripe_sandbox: RunningSandbox,
    webhooks_database: str,
    amqp_url: str,
    exchange_name: str,
) -> StartReal:
    """The webhooks app reading the sandbox through the real SDK, 1 s Stripe timeout."""
    import contextlib

    from asgi_lifespan import LifespanManager

    @contextlib.asynccontextmanager
    async def start() -> AsyncIterator[httpx.AsyncClient]:
        settings = BillingSettings(
            database_url=webhooks_database,
            amqp_url=amqp_url,
            billing_exchange=exchange_name,
            stripe_api_key=API_KEY,
            stripe_api_base=stripe_sandbox.url,
            stripe_timeout_seconds=1.0,
            stripe_webhook_secret=["whsec_test_secret_current"],
            stripe_price_team="price_team",
            jwt_secret="j" * 32,
        )
        async with start_webhooks() as _fake_stack:  # truncates the log, then stops
            pass
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://webhooks") as client:
                yield client

    return start


async def _customer(sandbox_http: httpx.AsyncClient, tenant: str) -> str:
    created = await sandbox_http.post("/v1/customers", data={"metadata[tenant_id]": tenant})
    customer_id: str = created.json()["id"]
    return customer_id


async def _status(database_url: str, event_id: str) -> tuple[str, int, str | None]:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT status, retry_count, tenant_id FROM webhooks.stripe_webhook_events_log "
            "WHERE event_id = $1",
            event_id,
        )
    finally:
        await conn.close()
    return (row["status"], row["retry_count"], row["tenant_id"]) if row else ("missing", 0, None)


async def _post(client: httpx.AsyncClient, signer: Signer, event: dict[str, Any]) -> None:
    import json

    body = json.dumps(event).encode()
    response = await client.post("/api/webhooks/stripe", content=body, headers=signer(body))
    assert response.status_code == 200, response.text


async def test_429s_are_retried_within_the_attempt(
    start_real: StartReal,
    sandbox_http: httpx.AsyncClient,
    build: type[Builders],
    signer: Signer,
    webhooks_database: str,
) -> None:
    customer = await _customer(sandbox_http, "tenant_429")
    await sandbox_http.post("/_sandbox/faults", json={"status": 429, "count": 2, "method": "GET"})
    event = build.event("invoice.paid", build.invoice(customer=customer))
    async with start_real() as client:
        await _post(client, signer, event)
        assert await wait_until(
            lambda: _is(webhooks_database, event["id"], "processed"), timeout=20
        )
    status, retries, tenant = await _status(webhooks_database, event["id"])
    assert (status, retries, tenant) == ("processed", 0, "tenant_429")
    injected = (await sandbox_http.get("/_sandbox/faults")).json()["injected"]
    assert [i["status"] for i in injected] == [429, 429]


@pytest.mark.parametrize("fault", [{"status": 500}, {"delay": 2.5}], ids=["500", "timeout"])
async def test_a_stripe_outage_retries_the_event_until_stripe_is_back(
    start_real: StartReal,
    sandbox_http: httpx.AsyncClient,
    build: type[Builders],
    signer: Signer,
    webhooks_database: str,
    fault: dict[str, Any],
) -> None:
    customer = await _customer(sandbox_http, "tenant_outage")
    # more failures than one attempt's retries: the first processing attempt fails
    await sandbox_http.post("/_sandbox/faults", json={**fault, "count": 4, "method": "GET"})
    event = build.event("invoice.paid", build.invoice(customer=customer))
    async with start_real() as client:
        await _post(client, signer, event)
        assert await wait_until(lambda: _retrying(webhooks_database, event["id"]), timeout=30), (
            await _status(webhooks_database, event["id"])
        )
        assert (await _status(webhooks_database, event["id"]))[0] == "retrying"
        assert await wait_until(
            lambda: _is(webhooks_database, event["id"], "processed"), timeout=30
        ), await _status(webhooks_database, event["id"])
    status, retries, tenant = await _status(webhooks_database, event["id"])
    assert (status, tenant) == ("processed", "tenant_outage")
    assert retries >= 1


async def _is(database_url: str, event_id: str, status: str) -> bool:
    return (await _status(database_url, event_id))[0] == status


async def _retrying(database_url: str, event_id: str) -> bool:
    status, retries, _ = await _status(database_url, event_id)
    return status == "retrying" or (status == "processed" and retries > 0)
