"""Every object the sandbox serves or emits matches Stripe's definition of the pinned version.

The definition is the installed stripe SDK's (``stripe.api_version``), read by
``stripe_sandbox.definition``: JSON types, nullability, enum values, required keys and
no key the version does not define. Stripe's fixtures (API 2026-07-29, kept at
libs/platform/src/billing_platform/testing/data/stripe/fixtures3.json) only say which
nullable keys are always present; where the fixture is stale (it still shows
``invoice.subscription``, removed in 2025-03-31.basil) the SDK's definition wins.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from billing_platform.testing.stripe_fixtures import fixtures_path
from stripe_sandbox.definition import check_emitted
from stripe_sandbox.testing import CARD_DECLINED, CARD_OK, DAY, Journey

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(fixtures_path().read_text())["resources"]
    return resources


async def collect(journey: Journey, fixtures: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Drive every resource, then fetch raw JSON for each object type the sandbox serves."""
    http = journey.http
    hook = await journey.client.v1.webhook_endpoints.create_async(
        params={"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]}
    )
    sub = await journey.subscribe("team_monthly")
    trial = await journey.subscribe("solo_monthly", trial_days=7, card=CARD_DECLINED)
    await journey.subscribe("solo_monthly", trial_days=3, card=CARD_DECLINED)  # will fail
    await journey.client.v1.subscriptions.update_async(
        trial.id, params={"cancel_at_period_end": True}
    )
    schedule = await journey.client.v1.subscription_schedules.create_async(
        params={"from_subscription": sub.id}
    )
    portal = await journey.client.v1.billing_portal.sessions.create_async(
        params={"customer": sub.customer, "return_url": "https://app.example"}
    )
    open_session = await journey.checkout("solo_monthly")
    await journey.client.v1.checkout.sessions.expire_async(
        (await journey.checkout("solo_monthly")).id
    )
    solo = await journey.price("solo_monthly")
    await journey.client.v1.subscription_schedules.update_async(
        schedule.id,
        params={
            "phases": [
                {
                    "items": [{"price": sub.items.data[0].price.id}],
                    "start_date": sub.created,
                    "end_date": sub.items.data[0].current_period_end,
                },
                {
                    "items": [{"price": solo.id}],
                    "duration": {"interval": "month", "interval_count": 1},
                },
            ]
        },
    )
    await journey.advance(40 * DAY)  # renewals, a failed payment, a cancel, trial_will_end
    await http.post(f"/_sandbox/customers/{sub.customer}/card", json={"card": CARD_OK})
    deleted = await journey.client.v1.customers.create_async()
    await journey.client.v1.customers.delete_async(deleted.id)

    async def get(path: str, **params: Any) -> dict[str, Any]:
        response = await http.get(path, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    objects: list[tuple[str, dict[str, Any]]] = []
    customer = await get(f"/v1/customers/{sub.customer}")
    objects.append(("customer", customer))
    objects.append(("deleted_customer", await get(f"/v1/customers/{deleted.id}")))
    pm = customer["invoice_settings"]["default_payment_method"]
    objects.append(("payment_method", await get(f"/v1/payment_methods/{pm}")))
    for price in (await get("/v1/prices"))["data"]:
        objects.append(("price", price))
    for product in (await get("/v1/products"))["data"]:
        objects.append(("product", product))
    for session in (await get("/v1/checkout/sessions", limit=100))["data"]:
        objects.append(("checkout.session", session))
    items = await get(f"/v1/checkout/sessions/{open_session.id}/line_items")
    objects += [("item", item) for item in items["data"]]
    objects.append(("billing_portal.session", portal.to_dict()))
    for s in (await get("/v1/subscriptions", status="all"))["data"]:
        objects.append(("subscription", s))
        objects += [("subscription_item", i) for i in s["items"]["data"]]
    objects.append(
        ("subscription_schedule", await get(f"/v1/subscription_schedules/{schedule.id}"))
    )
    for invoice in (await get("/v1/invoices", limit=100))["data"]:
        objects.append(("invoice", invoice))
        objects += [("line_item", line) for line in invoice["lines"]["data"]]
    events: list[dict[str, Any]] = []
    page = await get("/v1/events", limit=100)
    events += page["data"]
    while page["has_more"]:
        page = await get("/v1/events", limit=100, starting_after=events[-1]["id"])
        events += page["data"]
    assert {e["type"] for e in events} >= {
        "checkout.session.completed",
        "checkout.session.expired",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        "invoice.payment_failed",
        "invoice.upcoming",
        "subscription_schedule.updated",
    }
    objects += [("event", event) for event in events]
    objects.append(("webhook_endpoint", await get(f"/v1/webhook_endpoints/{hook.id}")))
    clock = await journey.client.v1.test_helpers.test_clocks.create_async(params={"frozen_time": 1})
    objects.append(
        ("test_helpers.test_clock", await get(f"/v1/test_helpers/test_clocks/{clock.id}"))
    )
    return objects


async def test_every_object_matches_the_definition(
    journey: Journey, fixtures: dict[str, Any]
) -> None:
    objects = await collect(journey, fixtures)
    kinds = {kind for kind, _ in objects}
    assert kinds >= {
        "customer",
        "deleted_customer",
        "payment_method",
        "price",
        "product",
        "checkout.session",
        "item",
        "billing_portal.session",
        "subscription",
        "subscription_item",
        "subscription_schedule",
        "invoice",
        "line_item",
        "event",
        "webhook_endpoint",
        "test_helpers.test_clock",
    }
    problems = sorted(
        {
            f"{kind}: {problem}"
            for _, obj in objects
            for kind, problem in check_emitted(obj, fixtures)
        }
    )
    assert problems == [], "\n".join(problems)
