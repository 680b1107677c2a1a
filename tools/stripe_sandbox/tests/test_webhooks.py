"""Webhook delivery: Stripe's signature, retries, knobs, and never blocking the API."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import stripe
from stripe_sandbox.config import SandboxConfig, WebhookTarget
from stripe_sandbox.server import running
from stripe_sandbox.testing import API_KEY, Journey, Receiver, serve_receiver
from stripe_sandbox.webhooks import sign

pytestmark = pytest.mark.e2e

SECRET = "whsec_test_secret"


async def register(http: httpx.AsyncClient, url: str, **extra: object) -> dict[str, object]:
    response = await http.post("/_sandbox/webhooks", json={"url": url, "secret": SECRET, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def drain(http: httpx.AsyncClient) -> None:
    response = await http.post("/_sandbox/webhooks/drain", json={"timeout": 10})
    assert response.json()["pending"] == 0


async def test_every_delivery_verifies_with_the_secret_and_not_without(
    journey: Journey, hooks: Receiver
) -> None:
    await register(journey.http, hooks.url)
    await journey.subscribe("team_monthly", trial_days=14)
    await drain(journey.http)

    assert len(hooks.deliveries) >= 5
    for headers, body in hooks.deliveries:
        event = stripe.Webhook.construct_event(body, headers["stripe-signature"], SECRET)
        assert event.id.startswith("evt_")
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_wrong")
    types = [json.loads(body)["type"] for _, body in hooks.deliveries]
    assert "checkout.session.completed" in types
    assert "customer.subscription.created" in types


async def test_signature_matches_stripes_scheme() -> None:
    header = sign('{"id": "evt_1"}', SECRET, timestamp=int(time.time()))
    event = stripe.Webhook.construct_event('{"id": "evt_1"}', header, SECRET)
    assert event.id == "evt_1"


async def test_failed_delivery_is_retried_until_it_succeeds(
    journey: Journey, hooks: Receiver
) -> None:
    await register(journey.http, hooks.url, events=["customer.created"])
    hooks.fail_next = 2

    customer = await journey.client.v1.customers.create_async()
    await drain(journey.http)

    assert [json.loads(body)["data"]["object"]["id"] for _, body in hooks.deliveries] == [
        customer.id
    ]
    events = await journey.client.v1.events.list_async(params={"type": "customer.created"})
    assert events.data[0].pending_webhooks == 0
    attempts = (await journey.http.get("/_sandbox/webhooks")).json()["attempts"]
    assert [a["status"] for a in attempts] == [500, 500, 200]


async def test_unreachable_endpoint_keeps_the_event_pending(journey: Journey) -> None:
    await register(journey.http, "http://127.0.0.1:9/nothing-listens-here")
    await journey.client.v1.customers.create_async()
    await drain(journey.http)
    events = await journey.client.v1.events.list_async(params={"type": "customer.created"})
    assert events.data[0].pending_webhooks == 1
    attempts = (await journey.http.get("/_sandbox/webhooks")).json()["attempts"]
    assert len(attempts) == 4  # one attempt + the three retries of the test schedule


async def test_delivery_does_not_block_the_api(journey: Journey, hooks: Receiver) -> None:
    await register(journey.http, hooks.url)
    hooks.delay = 1.0
    started = time.monotonic()
    await journey.client.v1.customers.create_async()
    assert time.monotonic() - started < 0.5
    await drain(journey.http)
    assert len(hooks.deliveries) == 1


async def test_event_filter_and_unregister(journey: Journey, hooks: Receiver) -> None:
    endpoint = await register(journey.http, hooks.url, events=["invoice.paid"])
    await journey.client.v1.customers.create_async()
    await drain(journey.http)
    assert hooks.deliveries == []
    deleted = await journey.http.delete(f"/_sandbox/webhooks/{endpoint['id']}")
    assert deleted.status_code == 200
    assert (await journey.http.get("/_sandbox/webhooks")).json()["data"] == []


async def test_duplicates_and_shuffle_knobs(hooks: Receiver) -> None:
    config = SandboxConfig(
        port=0,
        duplicate_deliveries=2,
        shuffle_window=10,
        shuffle_seed=7,
        webhooks=(WebhookTarget(url=hooks.url, secret=SECRET),),
    )
    async with (
        running(config) as other,
        httpx.AsyncClient(
            base_url=other.url, headers={"Authorization": f"Bearer {API_KEY}"}
        ) as http,
    ):
        client = stripe.StripeClient(
            API_KEY, base_addresses={"api": other.url}, http_client=stripe.HTTPXClient()
        )
        created = [await client.v1.customers.create_async() for _ in range(5)]
        await drain(http)
        await asyncio.sleep(0)

    ids = [json.loads(body)["data"]["object"]["id"] for _, body in hooks.deliveries]
    assert sorted(ids) == sorted([c.id for c in created] * 2)
    assert ids != [c.id for c in created for _ in range(2)]  # not in emission order


async def test_a_slow_endpoint_does_not_delay_another(journey: Journey, hooks: Receiver) -> None:
    async with serve_receiver() as fast:
        hooks.delay = 1.0
        await register(journey.http, hooks.url)
        await register(journey.http, fast.url)
        started = time.monotonic()
        await journey.client.v1.customers.create_async()
        await asyncio.wait_for(fast.received.wait(), 2)
        assert time.monotonic() - started < 0.8
        await drain(journey.http)


async def test_customer_updated_is_sent_when_email_locales_or_default_method_change(
    journey: Journey, hooks: Receiver
) -> None:
    await register(journey.http, hooks.url, events=["customer.updated"])
    customer = await journey.client.v1.customers.create_async(
        params={"email": "a@example.com", "preferred_locales": ["fr"]}
    )
    assert customer.preferred_locales == ["fr"]
    await journey.client.v1.customers.update_async(customer.id, params={"email": "b@example.com"})
    await journey.client.v1.customers.update_async(customer.id, params={"email": "b@example.com"})
    await journey.client.v1.customers.update_async(
        customer.id, params={"preferred_locales": ["de", "en"]}
    )
    await journey.http.post(
        f"/_sandbox/customers/{customer.id}/card", json={"card": "4242424242424242"}
    )
    await drain(journey.http)

    objects = [json.loads(body)["data"]["object"] for _, body in hooks.deliveries]
    assert [o["email"] for o in objects] == ["b@example.com"] * 3  # the no-op update sends none
    assert [o["preferred_locales"] for o in objects] == [["fr"], ["de", "en"], ["de", "en"]]
    assert objects[-1]["invoice_settings"]["default_payment_method"].startswith("pm_")
