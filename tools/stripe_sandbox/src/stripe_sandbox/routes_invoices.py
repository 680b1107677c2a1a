"""/v1/invoices: create_preview, list, retrieve, lines, pay; /v1/invoice_payments."""

from __future__ import annotations

from stripe_sandbox import cards, invoicing, trials
from stripe_sandbox.api import Ctx, paginate
from stripe_sandbox.billing_engine import ENDED, after_payment
from stripe_sandbox.cards import ChargeOutcome
from stripe_sandbox.errors import StripeError, card_declined, parameter_missing
from stripe_sandbox.objects.common import JSON, list_object
from stripe_sandbox.objects.invoice import subscription_of
from stripe_sandbox.plan_changes import PRORATION_BEHAVIORS, preview
from stripe_sandbox.routes_subscriptions import item_changes

STATUSES = ("draft", "open", "paid", "uncollectible", "void")
PAYMENT_STATUSES = ("canceled", "open", "paid")


def create_preview(ctx: Ctx) -> JSON:
    p = ctx.params
    sub_id = p.text("subscription")
    if sub_id is None:
        if p.text("customer") is None:
            raise parameter_missing("subscription")
        raise StripeError(
            "The sandbox previews invoices of existing subscriptions only.",
            param="subscription",
        )
    sub = ctx.state.require("subscription", sub_id, "subscription")
    customer = p.text("customer")
    if customer is not None and customer != sub["customer"]:
        raise StripeError("The subscription does not belong to this customer.", param="customer")
    if sub["status"] in ENDED:
        raise StripeError(
            "No upcoming invoices for customer: " + sub["customer"],
            code="invoice_upcoming_none",
        )
    details = p.sub("subscription_details")
    if details is not None and details.has("trial_end"):
        if details.text("trial_end") != "now" or details.items("items"):
            raise StripeError(
                "The sandbox previews subscription_details[trial_end]=now alone.",
                param="subscription_details[trial_end]",
            )
        if sub["status"] != "trialing":
            raise StripeError(
                "The sandbox previews ending a trial only for a trialing subscription.",
                param="subscription_details[trial_end]",
            )
        return trials.preview_end_now(ctx.state, ctx.config, sub)
    changes = item_changes(ctx.state, details.items("items")) if details else []
    behavior = (
        details.choice("proration_behavior", PRORATION_BEHAVIORS, "create_prorations")
        if details
        else "create_prorations"
    ) or "create_prorations"
    proration_date = (details.integer("proration_date") if details else None) or ctx.now
    items = {i["id"] for i in sub["items"]["data"]}
    for index, change in enumerate(changes):
        if change.item_id and change.item_id not in items:
            raise StripeError(
                f"No such subscription item: '{change.item_id}'",
                status=404,
                code="resource_missing",
                param=f"subscription_details[items][{index}][id]",
            )
    return preview(ctx.state, ctx.config, sub, changes, behavior, proration_date)


def _invoice(ctx: Ctx) -> JSON:
    return ctx.state.require("invoice", ctx.path["id"], "invoice")


def retrieve(ctx: Ctx) -> JSON:
    return _invoice(ctx)


def lines(ctx: Ctx) -> JSON:
    inv = _invoice(ctx)
    return list_object(inv["lines"]["data"], inv["lines"]["url"])


def list_(ctx: Ctx) -> JSON:
    p = ctx.params
    found = ctx.state.all("invoice")
    customer = p.text("customer")
    if customer is not None:
        found = [i for i in found if i["customer"] == customer]
    subscription = p.text("subscription")
    if subscription is not None:
        found = [i for i in found if subscription_of(i) == subscription]
    status = p.choice("status", STATUSES)
    if status is not None:
        found = [i for i in found if i["status"] == status]
    return paginate(p, found, "/v1/invoices")


def pay(ctx: Ctx) -> JSON:
    inv = _invoice(ctx)
    p = ctx.params
    if inv["status"] == "paid":
        raise StripeError("Invoice is already paid")  # Stripe: no code
    if inv["status"] != "open":
        invoicing.finalize(ctx.state, ctx.config, inv)
    if inv["status"] != "open":
        return inv
    pm = p.text("payment_method")
    if pm is not None:
        ctx.state.require("payment_method", pm, "payment_method")
    result = invoicing.charge(ctx.state, ctx.config, inv, pm)
    after_payment(ctx.state, ctx.config, inv, result)
    if result is ChargeOutcome.DECLINED:
        number = cards.card_number(
            ctx.state,
            pm
            or invoicing.default_payment_method(
                ctx.state, ctx.state.require("customer", inv["customer"]), inv
            ),
        )
        raise card_declined(cards.DECLINE_CODES.get(number or "", "generic_decline"))
    if result is ChargeOutcome.REQUIRES_ACTION:
        raise StripeError(
            "This payment requires additional user action before it can be completed.",
            status=402,
            type_="card_error",
            code="invoice_payment_intent_requires_action",
        )
    return inv


def list_payments(ctx: Ctx) -> JSON:
    """An invoice's payments (``invoice`` an existing invoice's id), or those of a payment
    intent (``payment[type]=payment_intent`` is required beside it), as Stripe lists them."""
    p = ctx.params
    found = ctx.state.all("invoice_payment")
    invoice = p.text("invoice")
    if invoice is not None:
        ctx.state.require("invoice", invoice, "invoice")
        found = [row for row in found if row["invoice"] == invoice]
    payment = p.sub("payment")
    if payment is not None:
        kind = payment.choice("type", ("payment_intent", "payment_record"))
        if kind is None:
            raise parameter_missing("payment[type]")
        intent = payment.text("payment_intent")
        found = [
            row
            for row in found
            if row["payment"]["type"] == kind
            and (intent is None or row["payment"]["payment_intent"] == intent)
        ]
    status = p.choice("status", PAYMENT_STATUSES)
    if status is not None:
        found = [row for row in found if row["status"] == status]
    return paginate(p, found, "/v1/invoice_payments")


def retrieve_payment(ctx: Ctx) -> JSON:
    return ctx.state.require("invoice_payment", ctx.path["id"], "invoice_payment")


ROUTES = [
    ("GET", "/v1/invoice_payments", list_payments),
    ("GET", "/v1/invoice_payments/{id}", retrieve_payment),
    ("POST", "/v1/invoices/create_preview", create_preview),
    ("GET", "/v1/invoices", list_),
    ("GET", "/v1/invoices/{id}", retrieve),
    ("GET", "/v1/invoices/{id}/lines", lines),
    ("POST", "/v1/invoices/{id}/pay", pay),
]
