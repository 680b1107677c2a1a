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
from stripe_sandbox.routes_test_clocks import sandbox_clock
from stripe_sandbox.setup_flow import save_card
from stripe_sandbox.state import State


class PayResult(enum.Enum):
    COMPLETED = "completed"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"  # 3D Secure: the authentication step comes next
    AUTHENTICATION_FAILED = "authentication_failed"


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
    cus["test_clock"] = sandbox_clock(state)
    state.put("customer", cus)
    emit(state, "customer.created", cus)
    return cus


AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. "
    "Please choose a different payment method and try again."
)


def pay(
    state: State, config: SandboxConfig, session: JSON, card: str, email: str | None = None
) -> PayResult:
    """Submit the page with ``card``; a card that needs 3D Secure waits for ``authenticate``."""
    _require_open(state, config, session)
    if session["mode"] == "setup":
        saved = save_card(state, session, cards.normalize(card))
        return PayResult.COMPLETED if saved else PayResult.DECLINED
    record = state.require("_cs", session["id"])
    if not card.strip() and card_optional(record):
        record.pop("authenticating", None)
        _complete(state, config, session, None, email)
        return PayResult.COMPLETED
    number = cards.normalize(card)
    record.pop("authenticating", None)
    outcome = cards.outcome(number)
    if not record.get("trial_days") and outcome is ChargeOutcome.DECLINED:
        return PayResult.DECLINED
    if outcome is ChargeOutcome.REQUIRES_ACTION:
        # Stripe shows the issuer's challenge on the Checkout page before anything is made.
        record["authenticating"] = {"card": number, "email": email}
        state.touch("_cs", session["id"])
        return PayResult.REQUIRES_ACTION
    _complete(state, config, session, number, email)
    return PayResult.COMPLETED


def card_optional(record: JSON) -> bool:
    """``payment_method_collection=if_required`` and nothing due today (a trial)."""
    return bool(record.get("trial_days")) and record.get("payment_method_collection") == (
        "if_required"
    )


def authenticate(state: State, config: SandboxConfig, session: JSON, complete: bool) -> PayResult:
    """The customer completes (or fails) the 3D Secure challenge of ``pay``."""
    _require_open(state, config, session)
    record = state.require("_cs", session["id"])
    pending = record.pop("authenticating", None)
    state.touch("_cs", session["id"])
    if pending is None:
        raise StripeError("This Checkout Session has no authentication in progress.")
    if not complete:
        return PayResult.AUTHENTICATION_FAILED
    _complete(state, config, session, pending["card"], pending["email"], on_session=True)
    return PayResult.COMPLETED


def authenticating(state: State, session: JSON) -> bool:
    record = state.get("_cs", session["id"]) or {}
    return session["status"] == "open" and record.get("authenticating") is not None


def _require_open(state: State, config: SandboxConfig, session: JSON) -> None:
    expire_if_due(state, config, session)
    if session["status"] != "open":
        raise StripeError(f"This Checkout Session is {session['status']}.")


def _complete(
    state: State,
    config: SandboxConfig,
    session: JSON,
    number: str | None,
    email: str | None,
    *,
    on_session: bool = False,
) -> None:
    record = state.require("_cs", session["id"])
    trial_days = record.get("trial_days")
    cus = _customer_for(state, config, session, email)
    pm = None if number is None else cards.attach_card(state, cus, number)
    prices = [(state.require("price", pid), qty) for pid, qty in record["line_items"]]
    sub, inv, result = create_subscription(
        state,
        config,
        NewSubscription(
            customer=cus,
            prices=prices,
            trial_days=trial_days,
            metadata=dict(record.get("subscription_metadata") or {}),
            payment_method=None if pm is None else pm["id"],
            description=record.get("subscription_description"),
            trial_end_behavior=record.get("trial_end_behavior"),
            on_session=on_session,
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


def success_redirect(session: JSON) -> str | None:
    url = session["success_url"]
    return None if url is None else str(url).replace("{CHECKOUT_SESSION_ID}", session["id"])
