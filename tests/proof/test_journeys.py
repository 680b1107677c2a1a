"""Every journey of the product as a user lives it, through the gateway, with the
Stripe sandbox delivering signed webhooks, real Postgres and RabbitMQ; a stand-in
consumer checks that the rest of the product hears about each change once."""

from collections import Counter
from typing import Any

import pytest
from billing_cli.testing.product import Product
from billing_platform.testing.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = 86_400


def _once_each(product: Product, tenant: str) -> None:
    bodies = product.events_of(tenant)
    ids = Counter(body["id"] for body in bodies)
    assert all(n == 1 for n in ids.values()), [i for i, n in ids.items() if n > 1]
    causes = Counter(
        (body["type"], body["causation_id"]) for body in bodies if body["source"] == "webhooks"
    )
    assert all(n == 1 for n in causes.values()), causes


async def test_checkout_pay_verify_active(product: Product) -> None:
    tenant = product.new_tenant()
    session_id = await product.checkout(tenant, "solo")
    paid = await product.pay(session_id)
    assert paid.status_code == 303
    assert paid.headers["location"] == (
        f"http://app.test/settings?success=true&session_id={session_id}"
    )
    verified = await product.api.post(
        "/api/billing/verify-session",
        headers=product.auth(tenant, "member"),
        json={"session_id": session_id},
    )
    assert verified.json() == {
        "verified": True,
        "status": "complete",
        "payment_status": "paid",
        "plan": "solo",
        "trial": False,
        "mode": "subscription",
        "payment_method": None,  # setup mode's saved card
        "made_default": False,
    }
    state = await product.wait_subscription(
        tenant, lambda s: s["plan_type"] == "solo" and s["status"] == "active"
    )
    assert (state["plan_type"], state["status_label"], state["payment_failed"]) == (
        "solo",
        "Active",
        None,
    )
    # Each arrives; their order across publishers is not fixed (the subscription's
    # own webhook may activate the tenant before checkout.completed is published).
    for event_type in (
        "checkout.session_created",
        "customer.created",
        "checkout.completed",
        "subscription.updated",
        "subscription.activated",
        "invoice.paid",
    ):
        await product.wait_event(tenant, event_type)
    assert product.types_of(tenant).count("subscription.activated") == 1
    _once_each(product, tenant)


async def test_declined_card_is_never_verified(product: Product) -> None:
    tenant = product.new_tenant()
    session_id = await product.checkout(tenant, "team")
    declined = await product.pay(session_id, card="4000000000000341")
    assert declined.status_code != 303
    verified = await product.api.post(
        "/api/billing/verify-session", headers=product.auth(tenant), json={"session_id": session_id}
    )
    assert verified.json()["verified"] is False
    assert (await product.subscription(tenant))["plan_type"] == "free"


async def test_trial_warns_then_converts(product: Product) -> None:
    tenant = product.new_tenant()
    state = await product.subscribe(tenant, "team", trial=True)
    assert state["status_label"] == "Trial"
    assert state["trial_end"] is not None
    await product.advance(12 * DAY)  # three days before the trial ends
    await product.wait_event(tenant, "subscription.trial_will_end")
    await product.advance(3 * DAY)
    converted = await product.wait_subscription(tenant, lambda s: s["status"] == "active")
    assert converted["plan_type"] == "team"
    await product.wait_event(tenant, "invoice.paid")
    _once_each(product, tenant)


async def test_cancel_at_period_end_then_resume(product: Product) -> None:
    tenant = product.new_tenant()
    await product.subscribe(tenant, "solo")
    owner = product.auth(tenant)
    canceled = await product.api.delete("/api/billing/subscription", headers=owner)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["cancel_at_period_end"] is True
    again = await product.api.delete("/api/billing/subscription", headers=owner)
    assert again.status_code == 409
    await product.wait_event(tenant, "subscription.cancel_scheduled")
    resumed = await product.api.post("/api/billing/subscription/resume", headers=owner)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["cancel_at_period_end"] is False
    await product.wait_event(tenant, "subscription.resumed")
    # the webhooks confirming both changes must not undo the resume
    settled = await product.wait_subscription(
        tenant, lambda s: s["status"] == "active" and not s["cancel_at_period_end"]
    )
    assert settled["plan_type"] == "solo"
    _once_each(product, tenant)


async def test_cancel_then_period_end_drops_to_free(product: Product) -> None:
    tenant = product.new_tenant()
    await product.subscribe(tenant, "team")
    assert (
        await product.api.delete("/api/billing/subscription", headers=product.auth(tenant))
    ).status_code == 200
    await product.advance(32 * DAY)
    state = await product.wait_subscription(tenant, lambda s: s["plan_type"] == "free")
    assert state["status"] in ("canceled", "active")
    await product.wait_event(tenant, "subscription.canceled")
    assert product.types_of(tenant).count("subscription.canceled") == 1
    _once_each(product, tenant)


async def test_upgrade_charges_what_the_preview_showed(product: Product) -> None:
    tenant = product.new_tenant()
    await product.subscribe(tenant, "solo")
    await product.advance(10 * DAY)
    owner = product.auth(tenant)
    preview = await product.api.post(
        "/api/billing/proration", headers=owner, json={"plan": "enterprise"}
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    changed = await product.api.post(
        "/api/billing/subscription/plan",
        headers=owner,
        json={"plan": "enterprise", "proration_date": shown["proration_date"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["effective"] == "now"
    await product.wait_subscription(tenant, lambda s: s["plan_type"] == "enterprise")
    await product.wait_event(tenant, "subscription.plan_changed")
    # Prorations go on the next invoice (Stripe's create_prorations): at renewal the
    # customer pays exactly what the preview announced.
    await product.advance(21 * DAY)
    customer = await product.customer_of(tenant)

    async def renewal() -> Any:
        invoices = (await product.stripe_get("/v1/invoices", customer=customer))["data"]
        return next((i for i in invoices if i["billing_reason"] == "subscription_cycle"), None)

    assert await wait_until(renewal, timeout=10)
    invoice = await renewal()
    assert invoice["amount_due"] == shown["next_invoice_amount"]
    prorations = [
        line["amount"]
        for line in invoice["lines"]["data"]
        if (line.get("parent") or {}).get("subscription_item_details", {}).get("proration")
    ]
    assert sum(prorations) == shown["proration_amount"]
    _once_each(product, tenant)


async def test_downgrade_waits_for_the_period_end(product: Product) -> None:
    tenant = product.new_tenant()
    await product.subscribe(tenant, "enterprise")
    changed = await product.api.post(
        "/api/billing/subscription/plan", headers=product.auth(tenant), json={"plan": "solo"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["effective"] == "period_end"
    pending = await product.wait_subscription(tenant, lambda s: s["pending_plan"] is not None)
    assert pending["plan_type"] == "enterprise"
    assert pending["pending_plan"]["plan"] == "solo"
    await product.advance(32 * DAY)
    applied = await product.wait_subscription(
        tenant, lambda s: s["plan_type"] == "solo" and s["pending_plan"] is None
    )
    assert applied["status"] == "active"
    _once_each(product, tenant)


async def test_failed_renewal_shows_the_banner_until_the_card_is_fixed(product: Product) -> None:
    tenant = product.new_tenant()
    await product.subscribe(tenant, "team")
    customer = await product.customer_of(tenant)
    failing = await product.stripe.post(
        f"/_sandbox/customers/{customer}/card", data={"card": "4000000000000341"}
    )
    assert failing.status_code == 200, failing.text
    # A month can be 31 days; the renewal is charged about an hour after the period ends.
    await product.advance(31 * DAY + 2 * 3600)
    failed = await product.wait_subscription(
        tenant, lambda s: s["payment_failed"] is not None and s["status"] == "past_due"
    )
    banner = failed["payment_failed"]
    assert (banner["amount_due"], banner["currency"]) == (2900, "usd")
    assert banner["hosted_invoice_url"]
    await product.wait_event(tenant, "invoice.payment_failed")

    fixed = await product.stripe.post(
        f"/_sandbox/customers/{customer}/card", data={"card": "4242424242424242"}
    )
    assert fixed.status_code == 200
    invoice_id = banner["hosted_invoice_url"].rstrip("/").rsplit("/", 1)[1]
    paid = await product.stripe.post(f"/v1/invoices/{invoice_id}/pay")
    assert paid.status_code == 200, paid.text
    cleared = await product.wait_subscription(
        tenant, lambda s: s["payment_failed"] is None and s["status"] == "active"
    )
    assert cleared["plan_type"] == "team"
    _once_each(product, tenant)


async def test_portal_actions_are_reflected_in_our_state(product: Product) -> None:
    tenant = product.new_tenant()
    await product.subscribe(tenant, "solo")
    owner = product.auth(tenant)
    assert (
        await product.api.get("/api/billing/checkout", headers=product.auth(tenant, "member"))
    ).status_code == 403
    portal = await product.api.get("/api/billing/checkout", headers=owner)
    assert portal.status_code == 200, portal.text
    portal_path = "/" + portal.json()["url"].split("/", 3)[3]
    subscription_id = (
        await product.stripe_get("/v1/subscriptions", customer=await product.customer_of(tenant))
    )["data"][0]["id"]

    canceled = await product.stripe.post(
        f"{portal_path}/cancel", data={"subscription": subscription_id}
    )
    assert canceled.status_code == 303
    await product.wait_subscription(tenant, lambda s: s["cancel_at_period_end"])
    await product.wait_event(tenant, "subscription.cancel_scheduled")

    renewed = await product.stripe.post(
        f"{portal_path}/resume", data={"subscription": subscription_id}
    )
    assert renewed.status_code == 303
    await product.wait_subscription(tenant, lambda s: not s["cancel_at_period_end"])
    await product.wait_event(tenant, "subscription.resumed")

    team_price = (await product.stripe_get("/v1/prices", **{"lookup_keys[]": "team_monthly"}))[
        "data"
    ][0]["id"]
    upgraded = await product.stripe.post(
        f"{portal_path}/plan", data={"subscription": subscription_id, "price": team_price}
    )
    assert upgraded.status_code == 303
    await product.wait_subscription(tenant, lambda s: s["plan_type"] == "team")
    await product.wait_event(tenant, "subscription.plan_changed")
    _once_each(product, tenant)
