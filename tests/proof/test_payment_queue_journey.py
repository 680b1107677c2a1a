"""The failed-payment queue, end to end: the product behind its gateway, the Stripe
sandbox's renewals with declining cards, signed webhooks, real RabbitMQ.

Three tenants subscribe; two renewals fail (declining cards), one is healthy. The
queue lists exactly the two failing ones, largest amount first. A retry with the card
still declining changes nothing but the audit and Stripe's attempt count (through
``invoice.payment_failed``); once a good card is the default, retry-payment clears the
tenant through the webhook path (``invoice.paid``) and it leaves the queue. A reminder
goes out as ``payment.reminder_requested``.
"""

from __future__ import annotations

from typing import Any

import pytest
from billing_cli.testing.product import Product
from billing_platform.testing.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = 86_400
DECLINING = "4000000000000341"
GOOD = "4242424242424242"
QUEUE_STATUSES = {"past_due", "unpaid", "incomplete", "paused"}


def operator() -> dict[str, str]:
    return Product.auth("ops", "member", scopes=["billing:admin"], user_id="op-journey")


async def queue(product: Product) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200}
    while True:
        page = await product.api.get(
            "/api/billing/admin/past-due", params=params, headers=operator()
        )
        assert page.status_code == 200, page.text
        rows.extend(page.json()["tenants"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return rows
        params["cursor"] = cursor


async def card(product: Product, tenant: str, number: str) -> None:
    customer = await product.customer_of(tenant)
    response = await product.stripe.post(
        f"/_sandbox/customers/{customer}/card", data={"card": number}
    )
    assert response.status_code == 200, response.text


@pytest.mark.mail_catcher
async def test_the_queue_shows_the_failing_tenants_and_a_fixed_card_clears_one(
    product: Product,
) -> None:
    team, solo, healthy = (product.new_tenant() for _ in range(3))
    await product.subscribe(team, "team")
    await product.subscribe(solo, "solo")
    await product.subscribe(healthy, "enterprise")
    await card(product, team, DECLINING)
    await card(product, solo, DECLINING)
    solo_customer = await product.customer_of(solo)  # a billing email to mail (customer.updated)
    named = await product.stripe.post(
        f"/v1/customers/{solo_customer}", data={"email": "billing@solo.example"}
    )
    assert named.status_code == 200, named.text

    # A month can be 31 days; the renewal is charged about an hour after the period ends.
    await product.advance(31 * DAY + 2 * 3600)
    for tenant in (team, solo):
        await product.wait_subscription(
            tenant, lambda s: s["status"] == "past_due" and s["payment_failed"] is not None
        )
    assert (await product.subscription(healthy))["status"] == "active"

    mine = {team, solo, healthy}
    rows = await queue(product)
    assert all(row["status"] in QUEUE_STATUSES for row in rows)
    listed = [row for row in rows if row["tenant_id"] in mine]
    assert [row["tenant_id"] for row in listed] == [team, solo]  # by amount at risk
    first = listed[0]
    assert (first["amount_due"], first["currency"], first["plan"]) == (2900, "usd", "team")
    assert first["attempts"] >= 1
    assert first["next_payment_attempt"] is not None
    assert first["stripe_gave_up"] is False
    assert first["hosted_invoice_url"]
    assert first["days_past_due"] == 0
    amounts = [row["amount_due"] if row["amount_due"] is not None else -1 for row in rows]
    assert amounts == sorted(amounts, reverse=True)

    # Still declining: Stripe says no, the failure comes back by webhook, the row stays.
    url = f"/api/billing/admin/tenants/{solo}/retry-payment"
    declined = await product.api.post(url, headers=operator())
    assert declined.status_code == 202, declined.text
    assert declined.json()["status"] == "requested"
    assert declined.json()["action"]["outcome"] == "stripe_declined"

    async def solo_attempts() -> int:
        row = next(r for r in await queue(product) if r["tenant_id"] == solo)
        return int(row["attempts"])

    before = listed[1]["attempts"]
    assert await wait_until(lambda: _more(solo_attempts, before), timeout=20)

    # A good card as the default, then the operator retries: cleared through the webhook.
    await card(product, team, GOOD)
    retried = await product.api.post(
        f"/api/billing/admin/tenants/{team}/retry-payment",
        headers=operator(),
        json={"reason": "customer replaced the card"},
    )
    assert retried.status_code == 202, retried.text
    assert retried.json()["action"]["outcome"] == "stripe_paid"
    cleared = await product.wait_subscription(
        team, lambda s: s["status"] == "active" and s["payment_failed"] is None
    )
    assert cleared["plan_type"] == "team"
    await product.wait_event(team, "invoice.paid", count=2, timeout=60)
    remaining = {row["tenant_id"] for row in await queue(product)} & mine
    assert remaining == {solo}

    again = await product.api.post(
        f"/api/billing/admin/tenants/{team}/retry-payment", headers=operator()
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "nothing_due"

    reminded = await product.api.post(
        f"/api/billing/admin/tenants/{solo}/remind", headers=operator()
    )
    assert reminded.status_code == 202, reminded.text
    await product.wait_event(solo, "payment.reminder_requested")
    (reminder,) = [e for e in product.events_of(solo) if e["type"] == "payment.reminder_requested"]
    assert reminder["data"]["requested_by"] == "op-journey"
    assert reminder["data"]["stripe_invoice_id"] == listed[1]["stripe_invoice_id"]

    # The notifications service mailed the payment failure and said so (notification.sent):
    # the row shows it as the last email.
    async def mailed() -> bool:
        row = next((r for r in await queue(product) if r["tenant_id"] == solo), None)
        return row is not None and row["last_email"] is not None

    assert await wait_until(mailed, timeout=30)
    row = next(r for r in await queue(product) if r["tenant_id"] == solo)
    assert row["last_email"]["kind"] == "payment_failed"
    assert row["last_email"]["status"] == "sent"
    assert row["last_email"]["to"] == "billing@solo.example"

    history = await product.api.get(
        f"/api/billing/admin/tenants/{team}/actions", headers=operator()
    )
    assert [(a["action"], a["outcome"], a["operator"]) for a in history.json()["actions"]] == [
        ("retry_payment", "nothing_due", "op-journey"),
        ("retry_payment", "stripe_paid", "op-journey"),
    ]


async def _more(read: Any, than: int) -> bool:
    return bool(await read() > than)
