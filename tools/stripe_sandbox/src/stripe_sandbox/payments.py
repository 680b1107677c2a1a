"""An invoice's payment intent and its charges: what one payment attempt creates and emits.

As on Stripe: finalizing an invoice with an amount due creates its payment intent
(``payment_intent.created``); each attempt confirms it with a card and emits
``charge.succeeded`` + ``payment_intent.succeeded``, ``charge.failed`` +
``payment_intent.payment_failed``, or ``payment_intent.requires_action`` (3D Secure,
no charge). Since 2025-03-31.basil an invoice does not name its payment intent; the
sandbox keeps the link in an internal record.
"""

from __future__ import annotations

import copy
from typing import Any

from stripe_sandbox import cards
from stripe_sandbox.cards import ChargeOutcome
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.events import emit
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.payment import (
    card_error,
    charge,
    invoice_payment,
    payment_intent,
    three_d_secure_action,
)
from stripe_sandbox.state import State

DESCRIPTIONS = {
    "subscription_create": "Subscription creation",
    "subscription_cycle": "Subscription cycle",
    "subscription_update": "Subscription update",
}
DECLINED_MESSAGE = "Your card was declined."
NO_CARD_MESSAGE = "The customer has no attached payment source or default payment method."


def intent_of(state: State, inv: JSON) -> JSON | None:
    record = state.get("_invoice", inv["id"])
    found = record.get("payment_intent") if record else None
    return state.get("payment_intent", found) if found else None


def create_intent(state: State, inv: JSON) -> JSON:
    """The invoice's payment intent, created at finalization (``payment_intent.created``)."""
    existing = intent_of(state, inv)
    if existing is not None:
        return existing
    intent = payment_intent(
        id=new_id("pi_"),
        created=state.now(),
        amount=inv["amount_due"],
        currency=inv["currency"],
        customer=inv["customer"],
        description=DESCRIPTIONS.get(inv["billing_reason"]),
        payment_method=None,
    )
    state.put("payment_intent", intent)
    payment = invoice_payment(
        id=new_id("inpay_"),
        created=state.now(),
        invoice=inv["id"],
        amount_requested=inv["amount_due"],
        currency=inv["currency"],
        intent=intent["id"],
    )
    state.put("invoice_payment", payment)
    record = state.record("_invoice", inv["id"])
    record["payment_intent"] = intent["id"]
    record["invoice_payment"] = payment["id"]
    emit(state, "payment_intent.created", intent)
    return intent


def _payment_of(state: State, inv: JSON) -> JSON | None:
    record = state.get("_invoice", inv["id"])
    found = record.get("invoice_payment") if record else None
    return state.get("invoice_payment", found) if found else None


def _settle_payment(state: State, inv: JSON, status: str, **fields: Any) -> None:
    """The invoice's open payment becomes ``paid`` or ``canceled``, stamped in its
    ``status_transitions`` (``paid_at``, ``canceled_at``)."""
    payment = _payment_of(state, inv)
    if payment is None or payment["status"] != "open":
        return
    payment.update(status=status, **fields)
    payment["status_transitions"][f"{status}_at"] = state.now()
    state.touch("invoice_payment", payment["id"])


def attempt(
    state: State, config: SandboxConfig, inv: JSON, pm_id: str | None, *, on_session: bool
) -> ChargeOutcome:
    """Confirm the invoice's payment intent with ``pm_id``; ``on_session`` completes 3DS."""
    intent = create_intent(state, inv)
    number = cards.card_number(state, pm_id)
    result = ChargeOutcome.DECLINED if number is None else cards.outcome(number)
    if on_session and result is ChargeOutcome.REQUIRES_ACTION:
        result = ChargeOutcome.SUCCEEDED
    intent.update(payment_method=pm_id, amount=inv["amount_remaining"], next_action=None)
    if result is ChargeOutcome.REQUIRES_ACTION:
        intent.update(
            status="requires_action",
            next_action=three_d_secure_action(f"{config.base_url}/invoice/{inv['id']}"),
        )
        state.touch("payment_intent", intent["id"])
        emit(state, "payment_intent.requires_action", intent)
        return result
    if pm_id is None or number is None:
        error = card_error(
            code="payment_intent_payment_attempt_failed",
            decline_code=None,
            message=NO_CARD_MESSAGE,
            charge=None,
        )
        _failed(state, intent, error)
        return result
    decline = cards.DECLINE_CODES.get(number, "generic_decline")
    made = charge(
        id=new_id("ch_"),
        created=state.now(),
        amount=intent["amount"],
        currency=intent["currency"],
        customer=intent["customer"],
        description=intent["description"],
        payment_intent=intent["id"],
        payment_method=state.require("payment_method", pm_id),
        failure=None
        if result is ChargeOutcome.SUCCEEDED
        else ("card_declined", decline, DECLINED_MESSAGE),
    )
    state.put("charge", made)
    intent["latest_charge"] = made["id"]
    if result is ChargeOutcome.SUCCEEDED:
        emit(state, "charge.succeeded", made)
        intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
        state.touch("payment_intent", intent["id"])
        _settle_payment(state, inv, "paid", amount_paid=intent["amount"])
        emit(state, "payment_intent.succeeded", intent)
        return result
    emit(state, "charge.failed", made)
    error = card_error(
        code="card_declined",
        decline_code=decline,
        message=DECLINED_MESSAGE,
        charge=made["id"],
        payment_method=state.require("payment_method", pm_id),
    )
    _failed(state, intent, error)
    return result


def _failed(state: State, intent: JSON, error: JSON) -> None:
    intent.update(status="requires_payment_method", last_payment_error=error)
    state.touch("payment_intent", intent["id"])
    emit(state, "payment_intent.payment_failed", intent)


def cancel_intent(state: State, inv: JSON) -> None:
    """A voided invoice's payment intent is canceled (``payment_intent.canceled``)."""
    intent = intent_of(state, inv)
    if intent is None or intent["status"] in ("succeeded", "canceled"):
        return
    before = copy.deepcopy(intent)
    intent.update(status="canceled", canceled_at=state.now(), cancellation_reason="void_invoice")
    intent["next_action"] = None
    state.touch("payment_intent", intent["id"])
    emit(state, "payment_intent.canceled", intent, previous=before)
    _settle_payment(state, inv, "canceled")
