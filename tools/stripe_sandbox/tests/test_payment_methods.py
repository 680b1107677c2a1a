"""Payment methods and Checkout's setup mode as Stripe runs them (issue 21): a card saved
on the setup page is attached, not made the default; a default must be attached to that
customer; detach clears the customer's default; the card updater control; the invoice PDF."""

from __future__ import annotations

from typing import Any

import pytest
import stripe
from stripe_sandbox.testing import DAY, Journey, present

pytestmark = pytest.mark.e2e

NEW_CARD = "5555555555554444"


async def _setup(journey: Journey, customer: str, **extra: Any) -> Any:
    params: Any = {
        "mode": "setup",
        "currency": "usd",
        "customer": customer,
        "success_url": "https://app.example/billing?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://app.example/billing",
        **extra,
    }
    return await journey.client.v1.checkout.sessions.create_async(params=params)


async def test_setup_mode_saves_a_card_without_making_it_the_default(journey: Journey) -> None:
    sub = await journey.subscribe("team_monthly")
    customer = str(sub.customer)
    session = await _setup(journey, customer)
    assert (session.mode, session.payment_status, session.status) == (
        "setup",
        "no_payment_required",
        "open",
    )
    page = await journey.http.get(f"/checkout/{session.id}")
    assert "Save card" in page.text
    saved = await journey.pay(session, NEW_CARD)
    assert saved.status_code == 303, saved.text
    done = await journey.client.v1.checkout.sessions.retrieve_async(session.id)
    assert done.status == "complete"
    intent = await journey.client.v1.setup_intents.retrieve_async(str(done.setup_intent))
    assert (intent.status, intent.customer, intent.usage) == ("succeeded", customer, "off_session")
    card = await journey.client.v1.payment_methods.retrieve_async(str(intent.payment_method))
    assert (card.customer, card.card and card.card.last4) == (customer, "4444")
    found = await journey.client.v1.customers.payment_methods.list_async(customer)
    assert len(found.data) == 2
    cus = await journey.client.v1.customers.retrieve_async(customer)
    assert present(cus.invoice_settings).default_payment_method != card.id
    types = await journey.event_types()
    assert "payment_method.attached" in types
    assert types.count("checkout.session.completed") == 2


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"currency": None}, "currency"),
        ({"line_items": [{"price": "price_x", "quantity": 1}]}, "line_items"),
        ({"subscription_data": {"trial_period_days": 3}}, "subscription_data"),
    ],
)
async def test_setup_mode_refuses_what_stripe_refuses(
    journey: Journey, extra: dict[str, Any], param: str
) -> None:
    customer = await journey.client.v1.customers.create_async()
    params: Any = {"mode": "setup", "currency": "usd", "customer": customer.id}
    params.update(extra)
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await journey.client.v1.checkout.sessions.create_async(params=params)
    assert refused.value.param == param


async def test_a_default_must_be_attached_to_that_customer(journey: Journey) -> None:
    mine = await journey.subscribe("solo_monthly")
    theirs = await journey.subscribe("solo_monthly")
    their_card = (
        await journey.client.v1.customers.payment_methods.list_async(str(theirs.customer))
    ).data[0]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await journey.client.v1.customers.update_async(
            str(mine.customer),
            params={"invoice_settings": {"default_payment_method": their_card.id}},
        )
    assert refused.value.param == "invoice_settings[default_payment_method]"
    with pytest.raises(stripe.InvalidRequestError):
        await journey.client.v1.subscriptions.update_async(
            mine.id, params={"default_payment_method": their_card.id}
        )


async def test_detach_clears_the_default_and_names_the_customer_it_left(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    customer = str(sub.customer)
    card = (await journey.client.v1.customers.payment_methods.list_async(customer)).data[0]
    detached = await journey.client.v1.payment_methods.detach_async(card.id)
    assert detached.customer is None
    cus = await journey.client.v1.customers.retrieve_async(customer)
    assert present(cus.invoice_settings).default_payment_method is None
    events = (
        await journey.http.get("/v1/events", params={"type": "payment_method.detached"})
    ).json()
    assert events["data"][0]["data"]["previous_attributes"] == {"customer": customer}
    with pytest.raises(stripe.InvalidRequestError):
        await journey.client.v1.payment_methods.detach_async(card.id)
    with pytest.raises(stripe.InvalidRequestError):  # a detached method is never reused
        await journey.client.v1.payment_methods.attach_async(card.id, params={"customer": customer})


async def test_the_card_updater_control_and_manual_updates(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    card = (await journey.client.v1.customers.payment_methods.list_async(str(sub.customer))).data[0]
    renewed = await journey.http.post(
        f"/_sandbox/payment_methods/{card.id}/automatic_update",
        json={"exp_month": 3, "exp_year": 2031},
    )
    assert renewed.status_code == 200, renewed.text
    assert (renewed.json()["card"]["exp_month"], renewed.json()["card"]["exp_year"]) == (3, 2031)
    assert (await journey.event_types())[-1] == "payment_method.automatically_updated"
    updated = await journey.client.v1.payment_methods.update_async(
        card.id, params={"card": {"exp_year": 2032}}
    )
    assert updated.card is not None
    assert updated.card.exp_year == 2032
    assert (await journey.event_types())[-1] == "payment_method.updated"
    with pytest.raises(stripe.InvalidRequestError):
        await journey.client.v1.payment_methods.update_async(
            card.id, params={"card": {"exp_month": 13}}
        )


async def test_renewals_charge_the_subscriptions_default_and_the_pdf_opens(
    journey: Journey,
) -> None:
    sub = await journey.subscribe("solo_monthly")
    customer = str(sub.customer)
    session = await _setup(journey, customer)
    assert (await journey.pay(session, NEW_CARD)).status_code == 303
    done = await journey.client.v1.checkout.sessions.retrieve_async(session.id)
    intent = await journey.client.v1.setup_intents.retrieve_async(str(done.setup_intent))
    new_card = str(intent.payment_method)
    await journey.client.v1.subscriptions.update_async(
        sub.id, params={"default_payment_method": new_card}
    )
    await journey.advance(31 * DAY + 2 * 3600)
    paid = await journey.client.v1.invoices.list_async(
        params={"customer": customer, "status": "paid"}
    )
    newest = max(paid.data, key=lambda inv: inv.created)
    assert newest.billing_reason == "subscription_cycle"
    assert newest.default_payment_method == new_card  # not the customer's default (4242)
    pdf = await journey.http.get(f"/invoice/{newest.id}/pdf")
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF-1.4")
