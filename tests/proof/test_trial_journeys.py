"""Trials as a tenant and an operator live them (issue 20), through the gateway, the
Stripe sandbox and its clock, signed webhooks, real Postgres and RabbitMQ: a trial
without a card warned, paused and resumed by a card; a trial with a card converting at
its end; converting now; an operator's extension moving the end and the warning."""

from typing import Any

import pytest
from billing_cli.testing.product import Product

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = 86_400
CARD = "4242424242424242"


def operator() -> dict[str, str]:
    return Product.auth("ops", "member", user_id="ops-ann", scopes=["billing:admin"])


async def invoices_of(product: Product, tenant: str) -> list[dict[str, Any]]:
    customer = await product.customer_of(tenant)
    found = await product.stripe_get("/v1/invoices", customer=customer, limit=100)
    invoices: list[dict[str, Any]] = found["data"]
    return invoices


async def entitlements_of(product: Product, tenant: str) -> dict[str, Any]:
    response = await product.api.get(
        "/api/billing/entitlements", headers=product.auth(tenant, "member")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def start_trial(product: Product, tenant: str, *, card: str) -> dict[str, Any]:
    session_id = await product.checkout(tenant, "team", trial=True)
    assert (await product.pay(session_id, card=card)).status_code == 303
    return await product.wait_subscription(tenant, lambda s: s["status"] == "trialing")


async def test_trial_without_card_warns_pauses_and_resumes_when_a_card_is_added(
    product: Product,
) -> None:
    tenant = product.new_tenant()
    state = await start_trial(product, tenant, card="")  # TRIAL_REQUIRES_CARD=false
    assert (state["plan_type"], state["has_payment_method"]) == ("team", False)
    assert state["trial_ends_in_days"] == 14

    await product.advance(11 * DAY + 60)  # three days before the end: the warning
    await product.wait_event(tenant, "subscription.trial_will_end")
    state = await product.wait_subscription(tenant, lambda s: s["trial_ends_in_days"] == 3)
    assert state["has_payment_method"] is False  # the banner's "Add a card to keep Team"

    await product.advance(3 * DAY)  # no card at the end: paused (TRIAL_END_WITHOUT_CARD)
    state = await product.wait_subscription(tenant, lambda s: s["status"] == "paused")
    assert (state["status_label"], state["trial_ends_in_days"]) == ("Paused", None)
    await product.wait_event(tenant, "subscription.updated")
    assert [i["amount_due"] for i in await invoices_of(product, tenant)] == [0]
    assert (await entitlements_of(product, tenant))["plan"] == "free"  # paused: Free's grant

    customer = await product.customer_of(tenant)  # the card the setup flow would add
    added = await product.stripe.post(f"/_sandbox/customers/{customer}/card", json={"card": CARD})
    assert added.status_code == 200, added.text
    state = await product.wait_subscription(
        tenant, lambda s: s["status"] == "active" and s["has_payment_method"]
    )
    assert (state["plan_type"], state["status_label"]) == ("team", "Active")
    await product.wait_event(tenant, "invoice.paid")
    paid = [i for i in await invoices_of(product, tenant) if i["amount_due"]]
    assert [(i["status"], i["amount_paid"]) for i in paid] == [("paid", 2900)]
    types = product.types_of(tenant)
    assert types.count("subscription.activated") == 2  # the trial, then the resume
    assert (await entitlements_of(product, tenant))["plan"] == "team"
    await product.wait_event(tenant, "entitlements.changed", count=3)  # team, free, team


async def test_trial_with_a_card_converts_at_its_end(product: Product) -> None:
    tenant = product.new_tenant()
    state = await start_trial(product, tenant, card=CARD)
    assert state["has_payment_method"] is True
    await product.advance(14 * DAY + 2 * 3600)  # the end, and the hour before charging
    state = await product.wait_subscription(tenant, lambda s: s["status"] == "active")
    assert state["trial_ends_in_days"] is None
    await product.wait_event(tenant, "invoice.paid")
    amounts = sorted(i["amount_paid"] for i in await invoices_of(product, tenant))
    assert amounts == [0, 2900]


async def test_convert_now_shows_the_charge_then_charges_at_once(product: Product) -> None:
    tenant = product.new_tenant()
    await start_trial(product, tenant, card=CARD)
    owner = product.auth(tenant)
    preview = await product.api.post("/api/billing/subscription/trial/end/preview", headers=owner)
    assert preview.status_code == 200, preview.text
    assert (preview.json()["amount_due"], preview.json()["currency"]) == (2900, "usd")
    member = await product.api.post(
        "/api/billing/subscription/trial/end", headers=product.auth(tenant, "member")
    )
    assert member.status_code == 403
    converted = await product.api.post("/api/billing/subscription/trial/end", headers=owner)
    assert converted.status_code == 200, converted.text
    assert converted.json()["status"] == "active"
    await product.wait_event(tenant, "invoice.paid")  # no clock moved: charged at once
    await product.wait_subscription(tenant, lambda s: s["status"] == "active")
    assert sorted(i["amount_paid"] for i in await invoices_of(product, tenant)) == [0, 2900]
    again = await product.api.post("/api/billing/subscription/trial/end", headers=owner)
    assert again.status_code == 409


async def test_an_operator_extension_moves_the_end_and_the_warning_never_prorates(
    product: Product,
) -> None:
    tenant = product.new_tenant()
    state = await start_trial(product, tenant, card=CARD)
    first_end = state["trial_end"]
    path = f"/api/billing/admin/tenants/{tenant}/trial"
    extended = await product.api.post(
        path, headers=operator(), json={"extend_days": 7, "reason": "evaluating SSO"}
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["total_extended_days"] == 7
    state = await product.wait_subscription(tenant, lambda s: s["trial_end"] != first_end)
    assert state["trial_ends_in_days"] == 21
    await product.wait_event(tenant, "subscription.trial_extended")

    await product.advance(11 * DAY + 60)  # the old warning's day: nothing
    drained = await product.stripe.post("/_sandbox/webhooks/drain", json={"timeout": 10})
    assert drained.json()["pending"] == 0
    assert "subscription.trial_will_end" not in product.types_of(tenant)
    await product.advance(7 * DAY)  # three days before the new end
    await product.wait_event(tenant, "subscription.trial_will_end")
    await product.wait_subscription(tenant, lambda s: s["trial_ends_in_days"] == 3)

    capped = await product.api.post(path, headers=operator(), json={"extend_days": 24})
    assert capped.status_code == 409
    assert capped.json()["error"]["code"] == "trial_extension_cap"

    await product.advance(3 * DAY + 2 * 3600)
    await product.wait_subscription(tenant, lambda s: s["status"] == "active")
    await product.wait_event(tenant, "invoice.paid")
    invoices = await invoices_of(product, tenant)
    assert sorted(i["amount_paid"] for i in invoices) == [0, 2900]  # no proration anywhere
    lines = [line for i in invoices for line in i["lines"]["data"]]
    assert not [line for line in lines if line["amount"] not in (0, 2900)]
