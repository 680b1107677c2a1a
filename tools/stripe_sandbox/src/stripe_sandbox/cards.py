"""Test cards and what happens when one is charged."""

from __future__ import annotations

import copy
import enum

from stripe_sandbox.errors import StripeError
from stripe_sandbox.events import emit
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.customer import payment_method
from stripe_sandbox.state import State

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"  # attaches to the customer, every charge is declined
CARD_DECLINED_GENERIC = "4000000000000002"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CARD_REQUIRES_ACTION = "4000002500003155"  # 3D Secure needed for every off-session charge


class ChargeOutcome(enum.Enum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"


_OUTCOMES = {
    CARD_DECLINED: ChargeOutcome.DECLINED,
    CARD_DECLINED_GENERIC: ChargeOutcome.DECLINED,
    CARD_INSUFFICIENT_FUNDS: ChargeOutcome.DECLINED,
    CARD_REQUIRES_ACTION: ChargeOutcome.REQUIRES_ACTION,
}

DECLINE_CODES = {CARD_INSUFFICIENT_FUNDS: "insufficient_funds"}


def normalize(number: str, param: str = "card") -> str:
    digits = number.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        raise StripeError(
            "Your card number is incorrect.",
            status=402,
            type_="card_error",
            code="incorrect_number",
            param=param,
        )
    return digits


def outcome(number: str) -> ChargeOutcome:
    return _OUTCOMES.get(number, ChargeOutcome.SUCCEEDED)


def attach_card(state: State, customer: JSON, number: str) -> JSON:
    """Create a card payment method for ``customer`` and make it the default."""
    pm = payment_method(
        id=new_id("pm_"), created=state.now(), customer=customer["id"], number=number
    )
    state.put("payment_method", pm)
    state.record("_card", pm["id"])["number"] = number
    emit(state, "payment_method.attached", pm)
    before = copy.deepcopy(customer)
    customer["invoice_settings"]["default_payment_method"] = pm["id"]
    state.touch("customer", customer["id"])
    emit(state, "customer.updated", customer, previous=before)
    return pm


def card_number(state: State, payment_method_id: str | None) -> str | None:
    if payment_method_id is None:
        return None
    record = state.get("_card", payment_method_id)
    return None if record is None else str(record["number"])
