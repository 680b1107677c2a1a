"""What paying on the hosted checkout page does: customer, card, subscription, events."""

from __future__ import annotations

import copy
import enum

from stripe_sandbox import cards
from stripe_sandbox.billing_engine import NewSubscription, create_subscription
from stripe_sandbox.cards import ChargeOutcome
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError
from stripe_sandbox.events import emit
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.checkout import customer_details
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.customer import customer
from stripe_sandbox.state import State


class PayResult(enum.Enum):
    COMPLETED = "completed"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"


def expire(state: State, config: SandboxConfig, session: JSON) -> None:
    if session["status"] != "open":
        raise StripeError(
            f'Only Checkout Sessions with a status in ["open"] can be expired. '
            f'This Checkout Session has a status of "{session["status"]}".',
        )
    before = copy.deepcopy(session)
    session["status"] = "expired"
    session["url"] = None
    state.touch("checkout.session", session["id"])
    emit(state, "checkout.session.expired", session, previous=before)


def expire_if_due(state: State, config: SandboxConfig, session: JSON) -> None:
    if session["status"] == "open" and session["expires_at"] <= state.now():
        expire(state, config, session)


def _customer_for(state: State, config: SandboxConfig, session: JSON, email: str | None) -> JSON:
    if session["customer"]:
        return state.require("customer", session["customer"])
    cus = customer(
        id=new_id("cus_", 14),
        created=state.now(),
        email=email or session["customer_email"],
        name=None,
        description=None,
        phone=None,
        metadata={},
        invoice_prefix=new_id("", 8).upper(),
    )
    state.put("customer", cus)
    emit(state, "customer.created", cus)
    return cus


def pay(
    state: State, config: SandboxConfig, session: JSON, card: str, email: str | None = None
) -> PayResult:
    expire_if_due(state, config, session)
    if session["status"] != "open":
        raise StripeError(f"This Checkout Session is {session['status']}.")
    number = cards.normalize(card)
    record = state.require("_cs", session["id"])
    trial_days = record.get("trial_days")
    if not trial_days and cards.outcome(number) is ChargeOutcome.DECLINED:
        return PayResult.DECLINED
    cus = _customer_for(state, config, session, email)
    pm = cards.attach_card(state, cus, number)
    prices = [(state.require("price", pid), qty) for pid, qty in record["line_items"]]
    sub, inv, result = create_subscription(
        state,
        config,
        NewSubscription(
            customer=cus,
            prices=prices,
            trial_days=trial_days,
            metadata=dict(record.get("subscription_metadata") or {}),
            payment_method=pm["id"],
            description=record.get("subscription_description"),
        ),
    )
    state.record("_sub", sub["id"])["checkout_session"] = session["id"]
    before = copy.deepcopy(session)
    session.update(
        status="complete",
        customer=cus["id"],
        subscription=sub["id"],
        invoice=inv["id"],
        customer_details=customer_details(cus["email"], cus["name"]),
        url=None,
    )
    if trial_days:
        session["payment_status"] = "no_payment_required"
    elif result is ChargeOutcome.SUCCEEDED:
        session["payment_status"] = "paid"
    state.touch("checkout.session", session["id"])
    emit(state, "checkout.session.completed", session, previous=before)
    if result is ChargeOutcome.REQUIRES_ACTION:
        return PayResult.REQUIRES_ACTION
    return PayResult.COMPLETED


def success_redirect(session: JSON) -> str | None:
    url = session["success_url"]
    return None if url is None else str(url).replace("{CHECKOUT_SESSION_ID}", session["id"])
