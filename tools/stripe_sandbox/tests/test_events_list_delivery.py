"""``GET /v1/events`` as Stripe lists it (newest first, cursors, ``created`` ranges,
``types[]``, ``delivery_success``) and deliveries switched off so events pile up
undelivered, through the real SDK."""

from __future__ import annotations

from typing import Any, cast

import httpx
import pytest
import stripe
from stripe.params import EventListParams
from stripe_sandbox.testing import Journey, Receiver

pytestmark = pytest.mark.e2e

SECRET = "whsec_test_secret"


async def _deliveries(http: httpx.AsyncClient, enabled: Any) -> httpx.Response:
    return await http.post("/_sandbox/webhooks/deliveries", json={"enabled": enabled})


def _params(**params: Any) -> EventListParams:
    return cast("EventListParams", params)


async def _ids(client: stripe.StripeClient, **params: Any) -> list[str]:
    page = await client.v1.events.list_async(params=_params(limit=100, **params))
    return [event.id for event in page.data]


async def test_deliveries_off_leave_events_undelivered_and_listed_as_such(
    journey: Journey, client: stripe.StripeClient, hooks: Receiver
) -> None:
    http = journey.http
    hook = await http.post("/_sandbox/webhooks", json={"url": hooks.url, "secret": SECRET})
    assert hook.status_code == 200
    await journey.subscribe("solo_monthly")
    assert (await http.post("/_sandbox/webhooks/drain", json={"timeout": 10})).json() == {
        "pending": 0
    }
    delivered = await _ids(client)
    assert delivered
    assert await _ids(client, delivery_success=True) == delivered
    assert await _ids(client, delivery_success=False) == []
    sent_before = len(hooks.deliveries)

    off = await _deliveries(http, False)
    assert off.json() == {"enabled": False}
    await journey.subscribe("team_monthly")
    await http.post("/_sandbox/webhooks/drain", json={"timeout": 10})
    assert len(hooks.deliveries) == sent_before  # nothing was sent
    everything = await _ids(client)
    missed = await _ids(client, delivery_success=False)
    assert missed
    assert everything == missed + delivered  # newest first: the missed ones are newer
    assert await _ids(client, delivery_success=True) == delivered
    events = (await client.v1.events.list_async(params={"delivery_success": False})).data
    assert all(event.pending_webhooks == 1 for event in events)

    await _deliveries(http, True)  # back on: new events go out, the missed ones do not
    await journey.subscribe("enterprise_monthly")
    await http.post("/_sandbox/webhooks/drain", json={"timeout": 10})
    assert len(hooks.deliveries) > sent_before
    assert await _ids(client, delivery_success=False) == missed


async def test_created_range_types_and_cursor_pages(
    journey: Journey, client: stripe.StripeClient
) -> None:
    await journey.subscribe("solo_monthly")
    newest_first = (await client.v1.events.list_async(params={"limit": 100})).data
    assert [e.created for e in newest_first] == sorted(
        (e.created for e in newest_first), reverse=True
    )
    await journey.advance(3600)
    later = await journey.subscribe("team_monthly")
    assert later is not None
    cutoff = newest_first[0].created + 3600
    recent = await _ids(client, created={"gte": cutoff})
    old = await _ids(client, created={"lt": cutoff})
    assert recent
    assert set(recent).isdisjoint(old)
    assert len(recent) + len(old) == len(await _ids(client))
    assert await _ids(client, created={"gt": cutoff - 1}) == recent
    assert await _ids(client, created={"lte": cutoff - 1}) == old

    customers = await _ids(client, types=["customer.created"])
    assert len(customers) == 2
    both = await _ids(client, types=["customer.created", "checkout.session.completed"])
    assert set(customers) < set(both)

    pages: list[str] = []
    cursor: dict[str, Any] = {}
    while True:
        page = await client.v1.events.list_async(params=_params(limit=3, **cursor))
        pages += [e.id for e in page.data]
        assert page.url == "/v1/events"
        if not page.has_more:
            break
        cursor = {"starting_after": page.data[-1].id}
    assert pages == await _ids(client)


async def test_hostile_filters_are_refused_as_stripe_refuses_them(
    journey: Journey, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as bad_flag:
        await client.v1.events.list_async(params=_params(delivery_success="maybe"))
    assert bad_flag.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as missing_cursor:
        await client.v1.events.list_async(params={"starting_after": "evt_nope"})
    assert missing_cursor.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.events.list_async(params={"limit": 101})
    toggled = await _deliveries(journey.http, "sometimes")
    assert toggled.status_code == 400
    unset = await journey.http.post("/_sandbox/webhooks/deliveries", json={})
    assert unset.status_code == 400
    assert unset.json()["error"]["param"] == "enabled"
