"""/v1/payment_methods: list, attach, detach, update (retrieve is routes_customers'),
/v1/setup_intents/{id}, and the rule Stripe applies wherever a payment method is named as
a customer's or a subscription's default: it must be attached to that customer."""

from __future__ import annotations

import copy

from stripe_sandbox.api import Ctx, paginate
from stripe_sandbox.errors import StripeError, parameter_missing
from stripe_sandbox.events import emit
from stripe_sandbox.forms import merge_metadata
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.state import State

CARD_TYPES = ("card",)


def require_attached(state: State, payment_method_id: str, customer_id: str, param: str) -> JSON:
    """The payment method, when it is attached to ``customer_id``; Stripe's 400 otherwise."""
    pm = state.require("payment_method", payment_method_id, param)
    if pm["customer"] != customer_id:
        raise StripeError(
            f"The customer does not have a payment method with the ID {payment_method_id}. "
            "The payment method must be attached to the customer.",
            code="resource_missing",
            param=param,
        )
    return pm


def list_(ctx: Ctx) -> JSON:
    p = ctx.params
    customer = p.text("customer")
    if customer is None:
        raise parameter_missing("customer")
    ctx.state.require("customer", customer, "customer")
    kind = p.choice("type", CARD_TYPES)
    found = [pm for pm in ctx.state.all("payment_method") if pm["customer"] == customer]
    if kind is not None:
        found = [pm for pm in found if pm["type"] == kind]
    return paginate(p, found, "/v1/payment_methods")


def attach(ctx: Ctx) -> JSON:
    pm = ctx.state.require("payment_method", ctx.path["id"])
    customer = ctx.state.require("customer", ctx.params.req("customer"), "customer")
    if pm["customer"] == customer["id"]:
        return pm
    if pm["customer"] is not None:
        raise StripeError(
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state",
        )
    if ctx.state.record("_card", pm["id"]).get("detached"):
        raise StripeError(
            "This PaymentMethod was previously used without being attached to a Customer "
            "or was detached from a Customer, and may not be used again.",
            code="payment_method_unexpected_state",
        )
    pm["customer"] = customer["id"]
    ctx.state.touch("payment_method", pm["id"])
    emit(ctx.state, "payment_method.attached", pm)
    return pm


def detach(ctx: Ctx) -> JSON:
    pm = ctx.state.require("payment_method", ctx.path["id"])
    if pm["customer"] is None:
        raise StripeError(
            "The payment method you provided is not attached to a customer so detachment "
            "is impossible.",
            code="payment_method_unexpected_state",
        )
    detach_method(ctx.state, pm)
    return pm


def detach_method(state: State, pm: JSON) -> None:
    """Detach ``pm``; a customer default naming it is cleared (``customer.updated``), as
    Stripe does. The event carries the customer it left in ``previous_attributes``."""
    customer_id = pm["customer"]
    before = copy.deepcopy(pm)
    pm["customer"] = None
    state.record("_card", pm["id"])["detached"] = True
    state.touch("payment_method", pm["id"])
    emit(state, "payment_method.detached", pm, previous=before)
    customer = state.get("customer", customer_id)
    if customer is not None and customer["invoice_settings"]["default_payment_method"] == pm["id"]:
        previous = copy.deepcopy(customer)
        customer["invoice_settings"]["default_payment_method"] = None
        state.touch("customer", customer_id)
        emit(state, "customer.updated", customer, previous=previous)


def update(ctx: Ctx) -> JSON:
    pm = ctx.state.require("payment_method", ctx.path["id"])
    p = ctx.params
    card = p.sub("card")
    if card is not None and pm["customer"] is None:
        raise StripeError(
            "You must save this PaymentMethod to a customer before you can update it.",
            code="payment_method_unexpected_state",
        )
    before = copy.deepcopy(pm)
    if card is not None:
        month = card.integer("exp_month", minimum=1)
        year = card.integer("exp_year", minimum=2000)
        if month is not None and month > 12:
            raise StripeError(
                "Your card's expiration month is invalid.",
                code="invalid_expiry_month",
                param="card[exp_month]",
            )
        if month is not None:
            pm["card"]["exp_month"] = month
        if year is not None:
            pm["card"]["exp_year"] = year
    pm["metadata"] = merge_metadata(pm["metadata"], p.metadata())
    ctx.state.touch("payment_method", pm["id"])
    if pm != before:
        emit(ctx.state, "payment_method.updated", pm, previous=before)
    return pm


def automatic_update(state: State, pm: JSON, exp_month: int, exp_year: int) -> JSON:
    """What the card networks' account updater does to a renewed card (a test control):
    new expiry, same payment method, ``payment_method.automatically_updated``."""
    if pm["customer"] is None:
        raise StripeError("Only a payment method attached to a customer is updated.")
    if not 1 <= exp_month <= 12:
        raise StripeError("exp_month must be 1-12.", param="exp_month")
    before = copy.deepcopy(pm)
    pm["card"].update(exp_month=exp_month, exp_year=exp_year)
    state.touch("payment_method", pm["id"])
    emit(state, "payment_method.automatically_updated", pm, previous=before)
    return pm


def retrieve_setup_intent(ctx: Ctx) -> JSON:
    return ctx.state.require("setup_intent", ctx.path["id"], "intent")


ROUTES = [
    ("GET", "/v1/payment_methods", list_),
    ("POST", "/v1/payment_methods/{id}", update),
    ("POST", "/v1/payment_methods/{id}/attach", attach),
    ("POST", "/v1/payment_methods/{id}/detach", detach),
    ("GET", "/v1/setup_intents/{id}", retrieve_setup_intent),
]
