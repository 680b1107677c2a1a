"""The Stripe sandbox delivers real signed webhooks to the real webhooks service over
HTTP; the service reads Stripe through the real SDK; billing events reach RabbitMQ."""

import httpx
import pytest
import stripe
from billing_platform.settings import BillingSettings
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.waiting import wait_until
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.testing import API_KEY, Journey, serve_app
from webhooks.main import create_app

pytestmark = pytest.mark.e2e

SECRET = "whsec_e2e_sandbox"


async def test_paid_checkout_becomes_billing_events(
    stripe_sandbox: RunningSandbox,
    sandbox_prices: dict[str, str],
    sandbox_http: httpx.AsyncClient,
    webhooks_database: str,
    amqp_url: str,
    exchange_name: str,
) -> None:
    settings = BillingSettings(
        database_url=webhooks_database,
        amqp_url=amqp_url,
        billing_exchange=exchange_name,
        stripe_api_key=API_KEY,
        stripe_api_base=stripe_sandbox.url,
        stripe_webhook_secret=[SECRET],
        stripe_price_solo=sandbox_prices["solo"],
        stripe_price_team=sandbox_prices["team"],
        stripe_price_enterprise=sandbox_prices["enterprise"],
        jwt_secret="j" * 32,
    )
    client = stripe.StripeClient(
        API_KEY, base_addresses={"api": stripe_sandbox.url}, http_client=stripe.HTTPXClient()
    )
    journey = Journey(client, sandbox_http)
    async with (
        EventCollector(amqp_url, exchange_name) as collector,
        serve_app(create_app(settings)) as webhooks_url,
    ):
        registered = await sandbox_http.post(
            "/_sandbox/webhooks",
            json={"url": f"{webhooks_url}/api/webhooks/stripe", "secret": SECRET},
        )
        assert registered.status_code == 200, registered.text
        subscription = await journey.subscribe("team_monthly")

        def seen() -> set[str]:
            return {body["type"] for body in collector.bodies()}

        assert await wait_until(
            lambda: {"checkout.completed", "subscription.updated", "invoice.paid"} <= seen(),
            timeout=20,
        ), seen()
    by_type = {body["type"]: body for body in collector.bodies()}
    completed = by_type["checkout.completed"]
    assert completed["tenant_id"] == "t-1"
    assert completed["data"]["plan"] == "team"
    assert completed["data"]["stripe_subscription_id"] == subscription.id
    # Arrival order is not Stripe's (events are processed concurrently; consumers order
    # them by the Stripe event's time): the newest says active on team.
    updated = [b["data"] for b in collector.bodies() if b["type"] == "subscription.updated"]
    newest = max(data["stripe_created"] for data in updated)
    assert ("active", "team") in {
        (data["status"], data["plan"]) for data in updated if data["stripe_created"] == newest
    }
    assert {b["tenant_id"] for b in collector.bodies()} == {"t-1"}
    assert len(collector.ids()) == len(set(collector.ids()))
