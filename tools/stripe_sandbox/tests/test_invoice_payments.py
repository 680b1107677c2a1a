"""An invoice's payments (``/v1/invoice_payments``): since 2025-03-31.basil the only way
from a failed invoice to why its payment failed and on which card."""

from __future__ import annotations

from typing import Any

import pytest
from stripe_sandbox.cards import CARD_INSUFFICIENT_FUNDS
from stripe_sandbox.testing import CARD_DECLINED, CARD_OK, DAY, Journey, present

pytestmark = pytest.mark.e2e

EXPAND = "data.payment.payment_intent.payment_method"


async def _payments(journey: Journey, invoice_id: str) -> list[dict[str, Any]]:
    response = await journey.http.get(
        "/v1/invoice_payments", params={"invoice": invoice_id, "expand[]": EXPAND}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "list"
    rows: list[dict[str, Any]] = body["data"]
    return rows


async def _failed_renewal(journey: Journey, card: str) -> str:
    sub = await journey.subscribe("team_monthly", trial_days=7, card=CARD_OK)
    if card != CARD_OK:
        swapped = await journey.http.post(
            f"/_sandbox/customers/{sub.customer}/card", json={"card": card}
        )
        assert swapped.status_code == 200
    await journey.advance(7 * DAY + 3600 + 60)
    found = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    return present(found.latest_invoice if isinstance(found.latest_invoice, str) else None)


async def test_a_declined_renewal_names_the_decline_and_the_card(journey: Journey) -> None:
    invoice_id = await _failed_renewal(journey, CARD_DECLINED)

    [payment] = await _payments(journey, invoice_id)

    assert payment["object"] == "invoice_payment"
    assert payment["status"] == "open"
    assert payment["is_default"] is True
    assert payment["amount_requested"] == 2900
    intent = payment["payment"]["payment_intent"]
    assert intent["status"] == "requires_payment_method"
    error = intent["last_payment_error"]
    assert (error["code"], error["decline_code"]) == ("card_declined", "generic_decline")
    assert error["payment_method"]["card"]["last4"] == "0341"
    assert intent["payment_method"]["card"]["brand"] == "visa"


async def test_insufficient_funds_is_the_decline_code_of_9995(journey: Journey) -> None:
    invoice_id = await _failed_renewal(journey, CARD_INSUFFICIENT_FUNDS)

    [payment] = await _payments(journey, invoice_id)

    error = payment["payment"]["payment_intent"]["last_payment_error"]
    assert error["decline_code"] == "insufficient_funds"
    assert error["payment_method"]["card"]["last4"] == "9995"


async def test_paying_the_invoice_marks_its_payment_paid(journey: Journey) -> None:
    invoice_id = await _failed_renewal(journey, CARD_DECLINED)
    invoice = await journey.client.v1.invoices.retrieve_async(invoice_id)
    card = await journey.http.post(
        f"/_sandbox/customers/{invoice.customer}/card", json={"card": CARD_OK}
    )
    assert card.status_code == 200

    await journey.client.v1.invoices.pay_async(invoice_id)

    [payment] = await _payments(journey, invoice_id)
    assert payment["status"] == "paid"
    assert payment["amount_paid"] == 2900
    assert payment["status_transitions"]["paid_at"] is not None
    assert payment["payment"]["payment_intent"]["last_payment_error"] is None


async def test_the_sdk_lists_them_with_the_expansion_stripe_allows(journey: Journey) -> None:
    invoice_id = await _failed_renewal(journey, CARD_DECLINED)

    listed = await journey.client.v1.invoice_payments.list_async(
        params={"invoice": invoice_id, "expand": [EXPAND]}
    )

    assert [row.invoice for row in listed.data] == [invoice_id]


async def test_refuses_what_stripe_refuses(journey: Journey) -> None:
    unknown = await journey.http.get("/v1/invoice_payments", params={"invoice": "in_nope"})
    assert unknown.status_code == 400  # an id in a parameter: 400, as on Stripe
    assert unknown.json()["error"]["code"] == "resource_missing"

    untyped = await journey.http.get(
        "/v1/invoice_payments", params={"payment[payment_intent]": "pi_123"}
    )
    assert untyped.status_code == 400
    assert untyped.json()["error"]["param"] == "payment[type]"

    too_deep = await journey.http.get(
        "/v1/invoice_payments",
        params={"expand[]": "data.payment.payment_intent.payment_method.customer"},
    )
    assert too_deep.status_code == 400

    bad_status = await journey.http.get("/v1/invoice_payments", params={"status": "void"})
    assert bad_status.status_code == 400
