"""State stays consistent under concurrent requests."""

from __future__ import annotations

import asyncio

import pytest
import stripe
from stripe_sandbox.testing import Journey

pytestmark = pytest.mark.e2e


async def test_concurrent_creates_with_one_idempotency_key_make_one_customer(
    journey: Journey,
) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "tenant-42-customer"}
    params: stripe.params.CustomerCreateParams = {
        "email": "owner@t42.example",
        "metadata": {"tenant_id": "t42"},
    }

    created = await asyncio.gather(
        *(
            journey.client.v1.customers.create_async(params=params, options=options)
            for _ in range(20)
        )
    )

    assert len({c.id for c in created}) == 1
    found = await journey.client.v1.customers.search_async(
        params={"query": "metadata['tenant_id']:'t42'"}
    )
    assert len(found.data) == 1
    events = await journey.client.v1.events.list_async(params={"type": "customer.created"})
    assert len(events.data) == 1


async def test_concurrent_creates_without_a_key_are_distinct(journey: Journey) -> None:
    created = await asyncio.gather(*(journey.client.v1.customers.create_async() for _ in range(20)))
    assert len({c.id for c in created}) == 20
    listed = await journey.client.v1.customers.list_async(params={"limit": 100})
    assert len(listed.data) == 20


async def test_concurrent_checkouts_for_one_customer(journey: Journey) -> None:
    price = await journey.price("team_monthly")
    customer = await journey.client.v1.customers.create_async()
    params: stripe.params.checkout.SessionCreateParams = {
        "mode": "subscription",
        "customer": customer.id,
        "line_items": [{"price": price.id}],
        "success_url": "https://app.example/ok",
    }
    sessions = await asyncio.gather(
        *(journey.client.v1.checkout.sessions.create_async(params=params) for _ in range(10))
    )
    assert len({s.id for s in sessions}) == 10
    paid = await asyncio.gather(*(journey.pay(s) for s in sessions[:5]))
    assert all(r.status_code == 303 for r in paid)
    subs = await journey.client.v1.subscriptions.list_async(params={"customer": customer.id})
    assert len(subs.data) == 5
    again = await journey.pay(sessions[0])
    assert again.status_code == 400  # already complete


async def test_concurrent_updates_to_one_subscription(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    await asyncio.gather(
        *(
            journey.client.v1.subscriptions.update_async(
                sub.id, params={"metadata": {f"k{i}": str(i)}}
            )
            for i in range(15)
        )
    )
    final = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert {k: v for k, v in final.metadata.to_dict().items() if k.startswith("k")} == {
        f"k{i}": str(i) for i in range(15)
    }
