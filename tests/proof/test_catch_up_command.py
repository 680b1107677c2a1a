"""``billing webhooks catch-up`` stores exactly the Stripe events that never arrived
(the sandbox's deliveries switched off for a batch of journeys), a second run stores
none, and the projection ends equal to Stripe's state once the worker has processed
them and the subscriptions service has consumed the billing events."""

import asyncio
from typing import Any

import asyncpg
import pytest
from billing_cli.main import app as cli
from billing_cli.testing.product import Product
from stripe_sandbox.testing import API_KEY
from typer.testing import CliRunner, Result
from webhooks.translate import HANDLED_TYPES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def _stored(database: str) -> set[str]:
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch("SELECT event_id FROM webhooks.stripe_webhook_events_log")
    finally:
        await conn.close()
    return {row["event_id"] for row in rows}


async def _stripe_events(product: Product, **filters: str) -> list[dict[str, Any]]:
    """Every event of the handled types, read from the sandbox over plain HTTP."""
    found: list[dict[str, Any]] = []
    cursor: dict[str, str] = {}
    while True:
        page = await product.stripe_get("/v1/events", limit="100", **filters, **cursor)
        found += [e for e in page["data"] if e["type"] in HANDLED_TYPES]
        if not page["has_more"]:
            return found
        cursor = {"starting_after": page["data"][-1]["id"]}


async def _deliveries(product: Product, enabled: bool) -> None:
    response = await product.stripe.post("/_sandbox/webhooks/deliveries", json={"enabled": enabled})
    assert response.json() == {"enabled": enabled}


async def _catch_up(database: str, sandbox: str, *args: str) -> Result:
    env = {
        "DATABASE_URL": database,
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": sandbox,
        "LOG_LEVEL": "WARNING",
    }
    runner = CliRunner()
    return await asyncio.to_thread(
        lambda: runner.invoke(cli, ["webhooks", "catch-up", *args], env=env)
    )


async def test_catch_up_stores_exactly_the_missed_events_and_the_projection_follows(
    product: Product, product_database: str
) -> None:
    delivered_tenant = product.new_tenant()
    await product.subscribe(delivered_tenant, "solo")
    customer = await product.customer_of(delivered_tenant)
    subscription = (await product.stripe_get("/v1/subscriptions", customer=customer))["data"][0]

    await _deliveries(product, False)
    try:  # a batch of journeys whose webhooks never arrive
        missed_tenant = product.new_tenant()
        session_id = await product.checkout(missed_tenant, "team")
        assert (await product.pay(session_id)).status_code == 303
        changed = await product.stripe.post(
            f"/v1/subscriptions/{subscription['id']}", data={"cancel_at_period_end": "true"}
        )
        assert changed.status_code == 200
        await product.stripe.post("/_sandbox/webhooks/drain", json={"timeout": 10})
    finally:
        await _deliveries(product, True)

    stored_before = await _stored(product_database)
    undelivered = {e["id"] for e in await _stripe_events(product, delivery_success="false")}
    missing = undelivered - stored_before
    missed_types = {
        e["type"] for e in await _stripe_events(product) if e["id"] in missing
    }  # fmt: skip
    assert {"checkout.session.completed", "customer.subscription.updated"} <= missed_types
    assert (await product.subscription(missed_tenant))["plan_type"] == "free"  # stale
    assert (await product.subscription(delivered_tenant))["cancel_at_period_end"] is False

    first = await _catch_up(product_database, product.sandbox, "--since", "72h", "--undelivered")
    assert first.exit_code == 0, first.output
    printed = {line.split()[1] for line in first.output.splitlines() if line.startswith("stored ")}
    assert printed == missing
    assert await _stored(product_database) - stored_before == missing
    assert f", {len(missing)} new" in first.output

    # A second run stores none. (Without --undelivered it would also list events that
    # earlier tests' stacks received in their own databases: the sandbox is shared.)
    still_undelivered = await _stripe_events(product, delivery_success="false")
    again = await _catch_up(product_database, product.sandbox, "--since", "72h", "--undelivered")
    assert again.exit_code == 0, again.output
    assert f"seen {len(still_undelivered)} event(s), 0 new" in again.output
    assert {e["id"] for e in still_undelivered} <= await _stored(product_database)

    # The worker processes what was caught up; the projection ends as Stripe says.
    missed_customer = await product.customer_of(missed_tenant)
    stripe_missed = (await product.stripe_get("/v1/subscriptions", customer=missed_customer))[
        "data"
    ][0]
    assert stripe_missed["status"] == "active"
    await product.wait_subscription(
        missed_tenant, lambda s: (s["plan_type"], s["status"]) == ("team", "active")
    )
    await product.wait_subscription(delivered_tenant, lambda s: s["cancel_at_period_end"] is True)


async def test_catch_up_refuses_a_window_stripe_does_not_keep_and_bad_durations(
    product_database: str,
) -> None:
    too_far = await _catch_up(product_database, "http://127.0.0.1:1", "--since", "31d")
    assert too_far.exit_code == 2
    assert "at most 30 days" in too_far.output
    garbage = await _catch_up(product_database, "http://127.0.0.1:1", "--since", "3 weeks")
    assert garbage.exit_code == 2
    assert "a duration such as" in garbage.output
    zero = await _catch_up(product_database, "http://127.0.0.1:1", "--since", "0h")
    assert zero.exit_code == 2
