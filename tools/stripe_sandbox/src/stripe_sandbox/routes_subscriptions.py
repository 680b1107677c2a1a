"""/v1/subscriptions and /v1/subscription_items."""

from __future__ import annotations

import copy

from stripe_sandbox import cards, trials
from stripe_sandbox.api import Ctx, paginate
from stripe_sandbox.billing_cycle import cancel_now
from stripe_sandbox.billing_engine import ENDED, NewSubscription, create_subscription, find_item
from stripe_sandbox.errors import StripeError, card_declined, parameter_missing
from stripe_sandbox.events import emit
from stripe_sandbox.forms import Params, merge_metadata
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.plan_changes import (
    PRORATION_BEHAVIORS,
    ItemChange,
    change_items,
    proration_lines,
)
from stripe_sandbox.routes_checkout import MAX_TRIAL_DAYS
from stripe_sandbox.routes_payment_methods import require_attached
from stripe_sandbox.state import State

PAYMENT_BEHAVIORS = (
    "allow_incomplete",
    "error_if_incomplete",
    "pending_if_incomplete",
    "default_incomplete",
)
STATUSES = (
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "paused",
    "all",
    "ended",
)


def item_changes(state: State, entries: list[Params]) -> list[ItemChange]:
    changes = []
    for entry in entries:
        price_id = entry.text("price")
        price = state.require("price", price_id, entry.name("price")) if price_id else None
        if price is not None and price["type"] != "recurring":
            raise StripeError("The price specified is not recurring.", param=entry.name("price"))
        item_id = entry.text("id")
        if item_id is None and price is None:
            raise parameter_missing(entry.name("price"))
        changes.append(
            ItemChange(
                item_id=item_id,
                price=price,
                quantity=entry.integer("quantity", minimum=0),
                deleted=entry.flag("deleted") is True,
            )
        )
    return changes


def _subscription(ctx: Ctx) -> JSON:
    return ctx.state.require("subscription", ctx.path["id"])


def retrieve(ctx: Ctx) -> JSON:
    return _subscription(ctx)


def list_(ctx: Ctx) -> JSON:
    p = ctx.params
    status = p.choice("status", STATUSES)
    found = ctx.state.all("subscription")
    if status is None:
        found = [s for s in found if s["status"] not in ENDED]
    elif status == "ended":
        found = [s for s in found if s["status"] in ENDED]
    elif status != "all":
        found = [s for s in found if s["status"] == status]
    customer = p.text("customer")
    if customer is not None:
        found = [s for s in found if s["customer"] == customer]
    price = p.text("price")
    if price is not None:
        found = [s for s in found if any(i["price"]["id"] == price for i in s["items"]["data"])]
    return paginate(p, found, "/v1/subscriptions")


def create(ctx: Ctx) -> JSON:
    p = ctx.params
    cus = ctx.state.require("customer", p.req("customer"), "customer")
    entries = p.items("items")
    if not entries:
        raise parameter_missing("items")
    prices = []
    for change in item_changes(ctx.state, entries):
        if change.price is None:
            raise parameter_missing("items[0][price]")
        prices.append((change.price, change.quantity or 1))
    pm = p.text("default_payment_method")
    if pm is not None:
        require_attached(ctx.state, pm, cus["id"], "default_payment_method")
    trial_days = p.integer("trial_period_days", minimum=0)
    trial_end = p.timestamp_or_now("trial_end", ctx.now)
    if trial_end is not None and trial_end > ctx.now:
        trial_days = max(1, (trial_end - ctx.now + 86_399) // 86_400)
    if trial_days is not None and trial_days > MAX_TRIAL_DAYS:
        raise StripeError(
            f"The trial period can be at most {MAX_TRIAL_DAYS} days.",
            code="parameter_invalid_integer",
            param="trial_period_days",
        )
    end_behavior = _end_behavior(p)
    sub, _, _ = create_subscription(
        ctx.state,
        ctx.config,
        NewSubscription(
            customer=cus,
            prices=prices,
            trial_days=trial_days or None,
            metadata=p.metadata() or {},
            payment_method=pm,
            description=p.text("description"),
            trial_end_behavior=end_behavior,
        ),
    )
    return sub


def _end_behavior(p: Params) -> str | None:
    settings = p.sub("trial_settings")
    end = settings.sub("end_behavior") if settings else None
    if settings is not None and end is None:
        raise parameter_missing("trial_settings[end_behavior]")
    if end is None:
        return None
    behavior = end.choice("missing_payment_method", trials.END_BEHAVIORS)
    if behavior is None:
        raise parameter_missing("trial_settings[end_behavior][missing_payment_method]")
    return behavior


# What a canceled subscription still accepts, as on Stripe.
AFTER_CANCEL = {"metadata", "cancellation_details"}


def update(ctx: Ctx) -> JSON:
    sub = _subscription(ctx)
    p = ctx.params
    if sub["status"] in ENDED and set(p.data) - AFTER_CANCEL:
        raise StripeError(
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
    # Validate everything before changing anything.
    behavior = p.choice("proration_behavior", PRORATION_BEHAVIORS, "create_prorations")
    assert behavior is not None
    proration_date = p.integer("proration_date") or ctx.now
    changes = item_changes(ctx.state, p.items("items"))
    for index, change in enumerate(changes):
        if change.item_id and change.item_id not in {i["id"] for i in sub["items"]["data"]}:
            find_item(ctx.state, change.item_id, f"items[{index}][id]")
            raise StripeError(
                f"The subscription item {change.item_id} does not belong to this subscription.",
                param=f"items[{index}][id]",
            )
    existing = {i["id"] for i in sub["items"]["data"]}
    removed = {c.item_id for c in changes if c.deleted}
    added = [c for c in changes if c.item_id is None and not c.deleted]
    if changes and not (existing - removed) and not added:
        raise StripeError("A subscription must have at least one item.", param="items")
    cancel_at_period_end = p.flag("cancel_at_period_end")
    cancel_at = p.timestamp_or_now("cancel_at", ctx.now) if p.has("cancel_at") else None
    if sub["schedule"] and (cancel_at_period_end is not None or p.has("cancel_at")):
        raise StripeError(
            f"The subscription is managed by the subscription schedule `{sub['schedule']}`, "
            "and updating any cancelation behavior directly is not allowed. Please update "
            "the schedule instead.",
        )
    pm = p.text("default_payment_method")
    if pm is not None:
        require_attached(ctx.state, pm, sub["customer"], "default_payment_method")
    trial_end = p.timestamp_or_now("trial_end", ctx.now) if p.has("trial_end") else None
    ends_trial_now = p.text("trial_end") == "now"
    if p.has("trial_end") and sub["status"] != "trialing":
        raise StripeError(
            "The sandbox changes trial_end only of a trialing subscription.", param="trial_end"
        )
    end_behavior = _end_behavior(p)
    details = p.sub("cancellation_details")
    metadata = p.metadata()
    description = p.text("description")
    payment_behavior = p.choice("payment_behavior", PAYMENT_BEHAVIORS, "allow_incomplete")
    if payment_behavior == "error_if_incomplete" and behavior == "always_invoice" and changes:
        _refuse_if_payment_would_fail(ctx, sub, changes, proration_date)

    before = ctx.state.snapshot(sub)
    if changes:
        change_items(ctx.state, ctx.config, sub, changes, behavior, proration_date)
    if cancel_at_period_end is not None:
        set_cancel_at_period_end(sub, cancel_at_period_end, ctx.now)
    if p.has("cancel_at"):
        sub["cancel_at"] = cancel_at
        sub["cancel_at_period_end"] = False
        sub["canceled_at"] = ctx.now if cancel_at else None
    if pm is not None:
        sub["default_payment_method"] = pm
    trials.set_end_behavior(sub, end_behavior)
    if ends_trial_now:
        trials.end_trial_now(ctx.state, ctx.config, sub)
    elif trial_end is not None:
        trials.move_trial_end(ctx.state, ctx.config, sub, trial_end)
        trials.warn_if_due(ctx.state, ctx.config, sub, ctx.now)
    if p.has("description"):
        sub["description"] = description
    if details is not None:
        for field in ("comment", "feedback"):
            if details.has(field):
                sub["cancellation_details"][field] = details.text(field)
    sub["metadata"] = merge_metadata(sub["metadata"], metadata)
    ctx.state.touch("subscription", sub["id"])
    if sub != before:
        emit(ctx.state, "customer.subscription.updated", sub, previous=before)
    return sub


def _refuse_if_payment_would_fail(
    ctx: Ctx, sub: JSON, changes: list[ItemChange], proration_date: int
) -> None:
    """``error_if_incomplete``: a change whose invoice would not be paid is not made (402)."""
    due = sum(line.amount for line in proration_lines(ctx.state, sub, changes, proration_date))
    if due <= 0:
        return
    customer = ctx.state.require("customer", sub["customer"])
    pm = sub["default_payment_method"] or customer["invoice_settings"]["default_payment_method"]
    number = cards.card_number(ctx.state, pm)
    outcome = cards.outcome(number) if number else cards.ChargeOutcome.DECLINED
    if outcome is cards.ChargeOutcome.DECLINED:
        raise card_declined(cards.DECLINE_CODES.get(number or "", "generic_decline"))
    if outcome is cards.ChargeOutcome.REQUIRES_ACTION:
        raise StripeError(
            "Payment for this subscription requires additional user action before it can be "
            "completed successfully.",
            status=402,
            type_="card_error",
            code="authentication_required",
        )


def set_cancel_at_period_end(sub: JSON, value: bool, now: int) -> None:
    end = sub["items"]["data"][0]["current_period_end"]
    sub["cancel_at_period_end"] = value
    sub["cancel_at"] = end if value else None
    sub["canceled_at"] = now if value else None
    sub["cancellation_details"]["reason"] = "cancellation_requested" if value else None


def cancel(ctx: Ctx) -> JSON:
    sub = _subscription(ctx)
    if sub["status"] in ENDED:
        raise StripeError(
            f"No such subscription: '{sub['id']}'",
            status=404,
            code="resource_missing",
            param="id",
        )
    details = ctx.params.sub("cancellation_details")
    if details is not None:
        sub["cancellation_details"]["comment"] = details.text("comment")
        sub["cancellation_details"]["feedback"] = details.text("feedback")
    sub["cancellation_details"]["reason"] = "cancellation_requested"
    cancel_now(ctx.state, ctx.config, sub)
    return sub


def resume(ctx: Ctx) -> JSON:
    sub = _subscription(ctx)
    p = ctx.params
    # an object in this API version: billing_cycle_anchor[type] = now | unchanged
    anchor_param = p.sub("billing_cycle_anchor")
    anchor = anchor_param.choice("type", trials.RESUME_ANCHORS) if anchor_param else None
    behavior = p.choice("payment_behavior", trials.RESUME_PAYMENT_BEHAVIORS)
    p.choice("proration_behavior", PRORATION_BEHAVIORS)
    trials.resume(
        ctx.state,
        ctx.config,
        sub,
        anchor=anchor or "now",
        payment_behavior=behavior or "resume_on_payment_attempt",
    )
    return sub


def retrieve_item(ctx: Ctx) -> JSON:
    _, item = find_item(ctx.state, ctx.path["id"], "id")
    return item


def list_items(ctx: Ctx) -> JSON:
    sub = ctx.state.require("subscription", ctx.params.req("subscription"), "subscription")
    return paginate(ctx.params, list(reversed(sub["items"]["data"])), "/v1/subscription_items")


def set_card(state: State, customer: JSON, number: str) -> JSON:
    """Attach a card as the customer's (and its subscriptions') default payment method."""
    pm = cards.attach_card(state, customer, cards.normalize(number))
    for sub in state.all("subscription"):
        if sub["customer"] == customer["id"] and sub["status"] not in ENDED:
            before = copy.deepcopy(sub)
            sub["default_payment_method"] = pm["id"]
            state.touch("subscription", sub["id"])
            emit(state, "customer.subscription.updated", sub, previous=before)
    return pm


ROUTES = [
    ("POST", "/v1/subscriptions", create),
    ("GET", "/v1/subscriptions", list_),
    ("GET", "/v1/subscriptions/{id}", retrieve),
    ("POST", "/v1/subscriptions/{id}", update),
    ("DELETE", "/v1/subscriptions/{id}", cancel),
    ("POST", "/v1/subscriptions/{id}/resume", resume),
    ("GET", "/v1/subscription_items", list_items),
    ("GET", "/v1/subscription_items/{id}", retrieve_item),
]
