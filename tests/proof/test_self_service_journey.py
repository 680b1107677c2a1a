"""Customer self-service, as the owner lives it (issue 21): a renewal fails on a declining
card, the banner shows, a new card is added through Checkout's setup mode, made the
default, the open invoice is paid now, ``invoice.paid`` clears the banner, the invoice is
listed paid, and the next renewal charges the new card. Through the gateway, with the
Stripe sandbox delivering signed webhooks, real Postgres and RabbitMQ."""

from typing import Any

import pytest
from billing_cli.testing.product import Product
from billing_platform.testing.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = 86_400
NEW_CARD = "5555555555554444"  # a Mastercard the sandbox charges successfully


async def cards(product: Product, tenant: str) -> list[dict[str, Any]]:
    response = await product.api.get(
        "/api/billing/payment-methods", headers=product.auth(tenant, "member")
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def invoices(product: Product, tenant: str) -> list[dict[str, Any]]:
    response = await product.api.get(
        "/api/billing/invoices", headers=product.auth(tenant, "member")
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["invoices"]
    return found


async def wait_for(product: Product, read: Any, check: Any, timeout: float = 20) -> Any:
    last: Any = None

    async def holds() -> bool:
        nonlocal last
        last = await read()
        return bool(check(last))

    assert await wait_until(holds, timeout=timeout), last
    return last


async def test_fix_a_failed_renewal_with_a_new_card(product: Product) -> None:
    tenant, stranger = product.new_tenant(), product.new_tenant()
    await product.subscribe(tenant, "team")
    await product.subscribe(stranger, "solo")
    customer = await product.customer_of(tenant)
    failing = await product.stripe.post(
        f"/_sandbox/customers/{customer}/card", data={"card": "4000000000000341"}
    )
    assert failing.status_code == 200, failing.text
    declining = failing.json()["id"]
    await product.advance(31 * DAY + 2 * 3600)
    failed = await product.wait_subscription(
        tenant, lambda s: s["payment_failed"] is not None and s["status"] == "past_due"
    )
    assert failed["payment_failed"]["amount_due"] == 2900
    listed = await wait_for(
        product,
        lambda: invoices(product, tenant),
        lambda found: any(i["status"] == "open" for i in found),
    )
    open_invoice = next(i for i in listed if i["status"] == "open")
    assert (open_invoice["amount_due"], open_invoice["currency"]) == (2900, "usd")
    assert open_invoice["hosted_invoice_url"]
    assert open_invoice["invoice_pdf"]
    pdf = await product.stripe.get(open_invoice["invoice_pdf"])
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF-")

    # "Update card": a Checkout session in setup mode; the card is saved on Stripe's page
    assert (
        await product.api.post(
            "/api/billing/payment-methods/setup", headers=product.auth(tenant, "member")
        )
    ).status_code == 403
    setup = await product.api.post(
        "/api/billing/payment-methods/setup", headers=product.auth(tenant)
    )
    assert setup.status_code == 200, setup.text
    session_id = setup.json()["url"].rstrip("/").rsplit("/", 1)[1]
    saved = await product.pay(session_id, card=NEW_CARD)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == (
        f"http://app.test/settings/billing?setup=complete&session_id={session_id}"
    )
    verify = await product.api.post(
        "/api/billing/verify-session", headers=product.auth(tenant), json={"session_id": session_id}
    )
    assert verify.status_code == 200, verify.text
    verified = verify.json()
    saved_card = verified.pop("payment_method")
    assert verified == {
        "verified": True,
        "status": "complete",
        "payment_status": "no_payment_required",
        "plan": None,
        "trial": False,
        "mode": "setup",
        "made_default": True,  # the owner's return: the next retry charges the new card
    }
    assert (saved_card["brand"], saved_card["last4"]) == ("mastercard", "4444")
    spying = await product.api.post(
        "/api/billing/verify-session",
        headers=product.auth(stranger),
        json={"session_id": session_id},
    )
    assert spying.status_code == 403
    found = await wait_for(
        product,
        lambda: cards(product, tenant),
        lambda methods: any(m["last4"] == "4444" and m["default"] for m in methods),
    )
    new_card = next(m for m in found if m["last4"] == "4444")
    assert (new_card["id"], new_card["brand"]) == (saved_card["id"], "mastercard")
    assert next(m for m in found if m["id"] == declining)["default"] is False
    stripe_customer = await product.stripe_get(f"/v1/customers/{customer}")
    assert stripe_customer["invoice_settings"]["default_payment_method"] == new_card["id"]

    # another tenant cannot touch it; a member cannot change anything
    for method, path in (
        ("POST", f"/api/billing/payment-methods/{new_card['id']}/default"),
        ("DELETE", f"/api/billing/payment-methods/{new_card['id']}"),
        ("POST", f"/api/billing/invoices/{open_invoice['id']}/pay"),
    ):
        theirs = await product.api.request(method, path, headers=product.auth(stranger))
        assert theirs.status_code == 404, (path, theirs.text)
        member = await product.api.request(method, path, headers=product.auth(tenant, "member"))
        assert member.status_code == 403, (path, member.text)

    # making it the default by hand again changes nothing (it is already)
    made = await product.api.post(
        f"/api/billing/payment-methods/{new_card['id']}/default", headers=product.auth(tenant)
    )
    assert made.status_code == 200, made.text
    assert made.json()["default"] == new_card["id"]
    stripe_customer = await product.stripe_get(f"/v1/customers/{customer}")
    assert stripe_customer["invoice_settings"]["default_payment_method"] == new_card["id"]
    subscriptions = await product.stripe_get("/v1/subscriptions", customer=customer)
    assert [s["default_payment_method"] for s in subscriptions["data"]] == [new_card["id"]]

    # "Pay now": Stripe charges the default; the banner goes only when invoice.paid arrives
    paid = await product.api.post(
        f"/api/billing/invoices/{open_invoice['id']}/pay", headers=product.auth(tenant)
    )
    assert paid.status_code == 200, paid.text
    assert paid.json() == {"invoice_id": open_invoice["id"], "status": "paid"}
    await product.wait_event(tenant, "invoice.paid", count=2)  # the first month's, this one
    await product.wait_subscription(
        tenant, lambda s: s["payment_failed"] is None and s["status"] == "active"
    )
    await wait_for(
        product,
        lambda: invoices(product, tenant),
        lambda found: next(i for i in found if i["id"] == open_invoice["id"])["status"] == "paid",
    )
    again = await product.api.post(
        f"/api/billing/invoices/{open_invoice['id']}/pay", headers=product.auth(tenant)
    )
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "nothing_due"

    # the next renewal charges the new card
    await product.advance(31 * DAY + 2 * 3600)
    renewals = await wait_for(
        product,
        lambda: product.stripe_get("/v1/invoices", customer=customer, status="paid"),
        lambda listed: len(listed["data"]) >= 3,
    )
    newest = max(renewals["data"], key=lambda inv: inv["created"])
    assert newest["default_payment_method"] == new_card["id"]
    assert newest["billing_reason"] == "subscription_cycle"
    await wait_for(
        product,
        lambda: invoices(product, tenant),
        lambda found: len(found) >= 3 and found[0]["id"] == newest["id"],
    )
    # remove the declining card; the new card, now the only one, stays (paid subscription)
    removed = await product.api.delete(
        f"/api/billing/payment-methods/{declining}", headers=product.auth(tenant)
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["default"] == new_card["id"]
    checkout_card = next(m["id"] for m in await cards(product, tenant) if m["id"] != new_card["id"])
    assert (
        await product.api.delete(
            f"/api/billing/payment-methods/{checkout_card}", headers=product.auth(tenant)
        )
    ).status_code == 200
    last = await product.api.delete(
        f"/api/billing/payment-methods/{new_card['id']}", headers=product.auth(tenant)
    )
    assert last.status_code == 409, last.text
    assert last.json()["error"]["code"] == "last_payment_method"
    assert [m["id"] for m in await cards(product, tenant)] == [new_card["id"]]
