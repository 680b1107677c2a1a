"""``read_latest_payment_attempt``: an invoice's payments (Stripe's ``invoice_payment``
objects, with their payment intent expanded) -> why the latest attempt failed, on which
card. Stripe's own fixtures, the sandbox's shape, and what a hostile payload may hold."""

from __future__ import annotations

from typing import Any

from billing_platform.stripe_reading import read_latest_payment_attempt
from billing_platform.testing.stripe_fixtures import stripe_fixture


def card(last4: str = "0341", brand: str = "visa") -> dict[str, Any]:
    method = stripe_fixture("payment_method")
    method["card"].update(brand=brand, last4=last4)
    return method


def intent(**fields: Any) -> dict[str, Any]:
    found = stripe_fixture("payment_intent")
    found.update(fields)
    return found


def payments(*intents: Any, default: int | None = None) -> dict[str, Any]:
    rows = []
    for index, expanded in enumerate(intents):
        row = stripe_fixture("invoice_payment")
        row["payment"] = {"type": "payment_intent", "payment_intent": expanded}
        row["is_default"] = default is None or index == default
        rows.append(row)
    return {"object": "list", "data": rows, "has_more": False}


def declined(code: str, decline_code: str | None, method: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "card_error",
        "code": code,
        "decline_code": decline_code,
        "payment_method": method,
    }


def test_a_declined_card_gives_its_decline_code_and_card() -> None:
    failed = intent(
        status="requires_payment_method",
        last_payment_error=declined("card_declined", "insufficient_funds", card("9995")),
        payment_method=None,
    )

    attempt = read_latest_payment_attempt(payments(failed))

    assert attempt is not None
    assert (attempt.decline_code, attempt.card_brand, attempt.card_last4) == (
        "insufficient_funds",
        "visa",
        "9995",
    )
    assert attempt.action_required is False
    assert attempt.event_data() == {
        "decline_code": "insufficient_funds",
        "card_brand": "visa",
        "card_last4": "9995",
        "action_required": False,
    }


def test_an_error_without_decline_code_gives_its_error_code() -> None:
    failed = intent(last_payment_error=declined("expired_card", None, card("0069", "mastercard")))

    attempt = read_latest_payment_attempt(payments(failed))

    assert attempt is not None
    assert (attempt.decline_code, attempt.card_brand) == ("expired_card", "mastercard")


def test_three_d_secure_waiting_gives_the_card_and_no_reason() -> None:
    # an earlier attempt's decline is still on the intent: not this attempt's reason
    waiting = intent(
        status="requires_action",
        last_payment_error=declined("card_declined", "generic_decline", card("0341")),
        payment_method=card("3155"),
    )
    waiting["last_payment_error"].pop("payment_method")

    attempt = read_latest_payment_attempt(payments(waiting))

    assert attempt is not None
    assert attempt.action_required is True
    assert attempt.decline_code is None
    assert attempt.card_last4 == "3155"


def test_the_default_payment_is_read_when_there_are_several() -> None:
    older = intent(last_payment_error=declined("card_declined", "generic_decline", card("0341")))
    chosen = intent(
        last_payment_error=declined("card_declined", "insufficient_funds", card("9995"))
    )

    attempt = read_latest_payment_attempt(payments(older, chosen, default=1))

    assert attempt is not None
    assert attempt.card_last4 == "9995"


def test_nothing_to_read_gives_none() -> None:
    assert read_latest_payment_attempt({"object": "list", "data": []}) is None
    # the intent not expanded (an id): nothing to read, no guess
    assert read_latest_payment_attempt(payments("pi_123")) is None
    # Stripe's fixture as it stands: no intent at all
    bare = stripe_fixture("invoice_payment")
    assert read_latest_payment_attempt({"data": [bare]}) is None


def test_hostile_shapes_are_read_as_unknown_not_crashes() -> None:
    odd = intent(
        status=7,
        last_payment_error={"decline_code": ["x"], "code": None, "payment_method": "pm_1"},
        payment_method={"card": "not a mapping"},
    )

    attempt = read_latest_payment_attempt({"data": ["junk", None, *payments(odd)["data"]]})

    assert attempt is not None
    assert (attempt.status, attempt.decline_code, attempt.card_last4) == (None, None, None)
    assert read_latest_payment_attempt({"data": "not a list"}) is None
