"""Capture Stripe objects from the sandbox's journeys, for the golden reading test.

Run from the repository root (it starts its own sandbox on a free port):

    .venv/bin/python libs/platform/tests/data/capture_sandbox_objects.py

It writes ``sandbox_objects.json`` beside itself: named objects (subscriptions with
their schedule expanded, checkout sessions, invoices, payment methods, prices) as the
SDK's ``to_dict()`` gives them. Then regenerate the expected readings with
``.venv/bin/python libs/platform/tests/test_stripe_reading_golden.py --update`` and
review the diff of ``expected_readings.json`` before committing it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import stripe
from stripe.params import SubscriptionRetrieveParams
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.server import running
from stripe_sandbox.testing import API_KEY, DAY, Journey

OUT = Path(__file__).resolve().parent / "sandbox_objects.json"


def plain(obj: Any) -> dict[str, Any]:
    found: dict[str, Any] = obj.to_dict(recursive=True)
    return found


async def capture(journey: Journey, client: stripe.StripeClient) -> dict[str, dict[str, Any]]:
    v1 = client.v1
    out: dict[str, dict[str, Any]] = {}
    expand: SubscriptionRetrieveParams = {"expand": ["schedule"]}

    trial = await journey.subscribe("team_monthly", trial_days=14)
    out["subscription.team_trialing"] = plain(await v1.subscriptions.retrieve_async(trial.id))
    sessions = await v1.checkout.sessions.list_async(params={"limit": 1})
    out["checkout_session.team_trial"] = plain(sessions.data[0])

    solo = await journey.subscribe("solo_monthly")
    out["subscription.solo_active"] = plain(await v1.subscriptions.retrieve_async(solo.id))
    sessions = await v1.checkout.sessions.list_async(params={"limit": 1})
    out["checkout_session.solo_paid"] = plain(sessions.data[0])
    invoices = await v1.invoices.list_async(params={"subscription": solo.id, "limit": 1})
    out["invoice.solo_paid"] = plain(invoices.data[0])
    customer = str(solo.customer)
    methods = await v1.customers.payment_methods.list_async(customer)
    out["payment_method.solo_card"] = plain(methods.data[0])
    out["price.team_monthly"] = plain(await journey.price("team_monthly"))
    out["price.enterprise_monthly"] = plain(await journey.price("enterprise_monthly"))
    out["price.solo_monthly"] = plain(await journey.price("solo_monthly"))

    canceled = await v1.subscriptions.update_async(
        solo.id, params={"cancel_at_period_end": True, "expand": ["schedule"]}
    )
    out["subscription.solo_cancel_at_period_end"] = plain(canceled)

    team = await journey.subscribe("team_monthly")
    item = team["items"]["data"][0]
    end = int(item["current_period_end"])
    schedule = await v1.subscription_schedules.create_async(params={"from_subscription": team.id})
    team_price = (await journey.price("team_monthly")).id
    solo_price = (await journey.price("solo_monthly")).id
    start = int(schedule.phases[0].start_date)
    await v1.subscription_schedules.update_async(
        schedule.id,
        params={
            "phases": [
                {"items": [{"price": team_price}], "start_date": start, "end_date": end},
                {"items": [{"price": team_price}], "end_date": end + 30 * DAY},
                {"items": [{"price": solo_price}], "duration": {"interval": "month"}},
            ],
            "end_behavior": "release",
        },
    )
    out["subscription.team_team_solo_schedule"] = plain(
        await v1.subscriptions.retrieve_async(team.id, params=expand)
    )

    cardless = await journey.trial_without_card("team_monthly", trial_days=3)
    out["subscription.team_trial_without_card"] = plain(cardless)
    await journey.advance(3 * DAY + 60)
    out["subscription.team_paused"] = plain(await v1.subscriptions.retrieve_async(cardless.id))
    expanded_customer = await v1.subscriptions.retrieve_async(
        cardless.id, params={"expand": ["customer"]}
    )
    out["subscription.team_paused_customer_expanded"] = plain(expanded_customer)
    # yearly prices: a yearly subscription, and one moving to monthly at renewal
    out["price.team_yearly"] = plain(await journey.price("team_yearly"))
    out["price.solo_yearly"] = plain(await journey.price("solo_yearly"))
    yearly = await journey.subscribe("team_yearly")
    out["subscription.team_yearly"] = plain(
        await v1.subscriptions.retrieve_async(yearly.id, params=expand)
    )
    yearly_end = int(yearly["items"]["data"][0]["current_period_end"])
    to_monthly = await v1.subscription_schedules.create_async(
        params={"from_subscription": yearly.id}
    )
    yearly_price = (await journey.price("team_yearly")).id
    await v1.subscription_schedules.update_async(
        to_monthly.id,
        params={
            "phases": [
                {
                    "items": [{"price": yearly_price}],
                    "start_date": int(to_monthly.phases[0].start_date),
                    "end_date": yearly_end,
                },
                {"items": [{"price": team_price}], "duration": {"interval": "month"}},
            ],
            "end_behavior": "release",
        },
    )
    out["subscription.team_yearly_to_monthly_schedule"] = plain(
        await v1.subscriptions.retrieve_async(yearly.id, params=expand)
    )
    return out


async def main() -> None:
    async with running(SandboxConfig(port=0)) as sandbox:
        client = stripe.StripeClient(
            API_KEY,
            base_addresses={"api": sandbox.url},
            http_client=stripe.HTTPXClient(),
            max_network_retries=0,
        )
        async with httpx.AsyncClient(
            base_url=sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
        ) as http:
            objects = await capture(Journey(client, http), client)
    OUT.write_text(json.dumps(objects, indent=1, sort_keys=True, default=str) + "\n")
    print(f"wrote {len(objects)} objects to {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
