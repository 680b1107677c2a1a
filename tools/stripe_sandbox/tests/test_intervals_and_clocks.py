"""Yearly prices, a change of billing interval, and customers on a test clock."""

from __future__ import annotations

import pytest
from stripe_sandbox.testing import DAY, Journey

pytestmark = pytest.mark.e2e


async def test_six_prices_two_per_plan_one_product_each(journey: Journey) -> None:
    monthly = await journey.price("team_monthly")
    yearly = await journey.price("team_yearly")
    assert (monthly.recurring.interval, yearly.recurring.interval) == ("month", "year")
    assert monthly.product == yearly.product
    assert (monthly.unit_amount, yearly.unit_amount) == (2900, 29000)
    for plan in ("solo", "enterprise"):
        assert (await journey.price(f"{plan}_yearly")).recurring.interval == "year"


async def test_every_customer_and_subscription_is_on_a_test_clock(journey: Journey) -> None:
    v1 = journey.client.v1
    sub = await journey.subscribe("team_monthly")
    assert isinstance(sub.test_clock, str)
    customer = await v1.customers.retrieve_async(str(sub.customer))
    assert customer.test_clock == sub.test_clock
    await journey.advance(3 * DAY)
    clock = await v1.test_helpers.test_clocks.retrieve_async(sub.test_clock)
    item = sub["items"]["data"][0]
    assert clock.frozen_time >= item["current_period_start"] + 3 * DAY


async def test_a_customer_names_its_test_clock_or_is_refused(journey: Journey) -> None:
    v1 = journey.client.v1
    clock = await v1.test_helpers.test_clocks.create_async(params={"frozen_time": 1})
    customer = await v1.customers.create_async(params={"test_clock": clock.id})
    assert customer.test_clock == clock.id
    refused = await journey.http.post("/v1/customers", data={"test_clock": "clock_nope"})
    assert refused.status_code == 400  # Stripe: a missing object named by a parameter
    assert refused.json()["error"]["code"] == "resource_missing"
    assert refused.json()["error"]["param"] == "test_clock"


async def test_month_to_year_restarts_the_period_and_invoices_at_once(journey: Journey) -> None:
    v1 = journey.client.v1
    sub = await journey.subscribe("team_monthly")
    await journey.advance(10 * DAY)
    yearly = await journey.price("team_yearly")
    item = sub["items"]["data"][0]
    start, end = item["current_period_start"], item["current_period_end"]
    preview = await v1.invoices.create_preview_async(
        params={
            "subscription": sub.id,
            "subscription_details": {"items": [{"id": item["id"], "price": yearly.id}]},
        }
    )
    updated = await v1.subscriptions.update_async(
        sub.id, params={"items": [{"id": item["id"], "price": yearly.id}]}
    )
    new_item = updated["items"]["data"][0]
    assert new_item["price"]["id"] == yearly.id
    assert new_item["current_period_start"] > start
    assert new_item["current_period_end"] - new_item["current_period_start"] >= 365 * DAY
    assert updated.billing_cycle_anchor == new_item["current_period_start"]
    invoice = await v1.invoices.retrieve_async(str(updated.latest_invoice))
    assert invoice.status == "paid"
    assert invoice.billing_reason == "subscription_update"
    credit = [line for line in invoice.lines.data if line.amount < 0]
    assert len(credit) == 1
    unused = (end - new_item["current_period_start"]) / (end - start)
    assert abs(-credit[0].amount - round(2900 * unused)) <= 10
    assert invoice.amount_due == 29000 + credit[0].amount
    assert abs(preview.amount_due - invoice.amount_due) <= 10  # the preview said the same


async def test_year_to_month_at_renewal_through_a_schedule(journey: Journey) -> None:
    v1 = journey.client.v1
    sub = await journey.subscribe("team_yearly")
    end = sub["items"]["data"][0]["current_period_end"]
    monthly = await journey.price("team_monthly")
    yearly = await journey.price("team_yearly")
    schedule = await v1.subscription_schedules.create_async(params={"from_subscription": sub.id})
    await v1.subscription_schedules.update_async(
        schedule.id,
        params={
            "phases": [
                {
                    "items": [{"price": yearly.id}],
                    "start_date": schedule.phases[0].start_date,
                    "end_date": end,
                },
                {"items": [{"price": monthly.id}], "duration": {"interval": "month"}},
            ],
            "end_behavior": "release",
        },
    )
    await journey.advance_to(end + 3600 * 2)
    renewed = await v1.subscriptions.retrieve_async(sub.id)
    item = renewed["items"]["data"][0]
    assert item["price"]["id"] == monthly.id
    assert item["current_period_start"] == end
    assert 28 * DAY <= item["current_period_end"] - end <= 31 * DAY
