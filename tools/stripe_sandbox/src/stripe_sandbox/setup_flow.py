"""Checkout in setup mode: create the session, and what saving a card on its hosted page
does (a succeeded SetupIntent, the card attached to the customer, the session complete).

As on Stripe: no line items and no subscription data in setup mode; ``currency`` is
required unless ``payment_method_types`` is given; a session with a ``customer`` attaches
the new payment method to it, without making it the default (the integration does that);
``payment_status`` is ``no_payment_required``. The sandbox skips 3-D Secure on setup (3155
is saved as is; it still needs authentication when charged off-session).
"""

from __future__ import annotations

import copy

from stripe_sandbox import cards
from stripe_sandbox.errors import StripeError
from stripe_sandbox.events import emit
from stripe_sandbox.forms import Params
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.checkout import customer_details
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.customer import payment_method
from stripe_sandbox.state import State

SETUP_DECLINES = {cards.CARD_DECLINED_GENERIC, cards.CARD_INSUFFICIENT_FUNDS}
"""Cards whose setup fails (0341 attaches fine and declines only when charged)."""


def refuse_setup_params(p: Params) -> str | None:
    """Stripe's refusals of a setup-mode session; the currency it names (may be None)."""
    for forbidden in ("line_items", "subscription_data"):
        if p.has(forbidden):
            raise StripeError(f"You can not pass `{forbidden}` in `setup` mode.", param=forbidden)
    currency = p.text("currency")
    if currency is None and not p.has("payment_method_types"):
        raise StripeError(
            "`currency` is required in `setup` mode when `payment_method_types` is not set.",
            param="currency",
        )
    return None if currency is None else currency.lower()


def setup_intent(*, id: str, created: int, customer: str | None, metadata: dict[str, str]) -> JSON:
    return {
        "id": id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": f"{id}_secret_{new_id('', 16)}",
        "created": created,
        "customer": customer,
        "description": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "single_use_mandate": None,
        "status": "requires_payment_method",
        "usage": "off_session",
    }


def save_card(state: State, session: JSON, number: str) -> bool:
    """Save ``number`` through the session's SetupIntent; False when the card is refused."""
    if number in SETUP_DECLINES:
        return False
    record = state.require("_cs", session["id"])
    intent = setup_intent(
        id=new_id("seti_"),
        created=state.now(),
        customer=session["customer"],
        metadata=dict(record.get("setup_intent_metadata") or {}),
    )
    pm = payment_method(
        id=new_id("pm_"), created=state.now(), customer=session["customer"], number=number
    )
    state.put("payment_method", pm)
    state.record("_card", pm["id"])["number"] = number
    if session["customer"]:
        emit(state, "payment_method.attached", pm)
    intent.update(status="succeeded", payment_method=pm["id"])
    state.put("setup_intent", intent)
    emit(state, "setup_intent.created", intent)
    emit(state, "setup_intent.succeeded", intent)
    before = copy.deepcopy(session)
    customer = state.get("customer", session["customer"]) if session["customer"] else None
    session.update(
        status="complete",
        setup_intent=intent["id"],
        url=None,
        customer_details=customer_details(
            customer["email"] if customer else None, customer["name"] if customer else None
        ),
    )
    state.touch("checkout.session", session["id"])
    emit(state, "checkout.session.completed", session, previous=before)
    return True
