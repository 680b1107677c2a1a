"""The hosted pages: checkout, portal and invoice."""

from __future__ import annotations

import pytest
import stripe
from stripe_sandbox.testing import (
    CARD_DECLINED,
    CARD_OK,
    DAY,
    Journey,
    expanded,
    present,
    stripe_id,
)

pytestmark = pytest.mark.e2e


async def test_unknown_pages_are_404(journey: Journey) -> None:
    for path in ("/checkout/cs_nope", "/portal/bps_nope", "/invoice/in_nope"):
        assert (await journey.http.get(path)).status_code == 404


async def test_bad_card_number_shows_the_form_again(journey: Journey) -> None:
    session = await journey.checkout("solo_monthly")
    response = await journey.pay(session, "1234")
    assert response.status_code == 400
    assert "card number is incorrect" in response.text
    assert (await journey.client.v1.checkout.sessions.retrieve_async(session.id)).status == "open"


async def test_hosted_invoice_page_pays_a_past_due_invoice(journey: Journey) -> None:
    sub = await journey.subscribe("team_monthly", trial_days=3, card=CARD_DECLINED)
    await journey.advance(4 * DAY)
    failed = await journey.client.v1.subscriptions.retrieve_async(
        sub.id, params={"expand": ["latest_invoice"]}
    )
    assert failed.status == "past_due"
    latest = expanded(failed.latest_invoice, stripe.Invoice)
    path = present(latest.hosted_invoice_url).removeprefix(str(journey.http.base_url).rstrip("/"))
    page = await journey.http.get(path)
    assert page.status_code == 200
    assert "29.00 USD" in page.text

    declined = await journey.http.post(f"{path}/pay", data={"card": CARD_DECLINED})
    assert "error=" in declined.headers["location"]
    paid = await journey.http.post(f"{path}/pay", data={"card": CARD_OK})
    assert paid.status_code == 303

    invoice = await journey.client.v1.invoices.retrieve_async(present(latest.id))
    assert invoice.status == "paid"
    assert (await journey.client.v1.subscriptions.retrieve_async(sub.id)).status == "active"


async def test_portal_card_update_is_used_for_the_next_retry(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly", trial_days=3, card=CARD_DECLINED)
    await journey.advance(4 * DAY)
    portal = await journey.client.v1.billing_portal.sessions.create_async(
        params={"customer": sub.customer}
    )
    updated = await journey.http.post(f"/portal/{portal.id}/card", data={"card": CARD_OK})
    assert updated.status_code == 303
    invoice = await journey.client.v1.invoices.retrieve_async(
        stripe_id((await journey.client.v1.subscriptions.retrieve_async(sub.id)).latest_invoice)
    )
    await journey.advance_to(present(invoice.next_payment_attempt))
    assert (await journey.client.v1.subscriptions.retrieve_async(sub.id)).status == "active"
    assert (await journey.client.v1.invoices.retrieve_async(invoice.id)).status == "paid"
