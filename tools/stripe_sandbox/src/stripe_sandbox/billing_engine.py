"""Subscriptions: creation, payment consequences, plan changes with proration, cancels.

Time-driven work (renewals, trial end, dunning, schedule phases) is in ``billing_cycle``.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
from dataclasses import dataclass

from stripe_sandbox import invoicing
from stripe_sandbox.cards import ChargeOutcome
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError
from stripe_sandbox.events import emit
from stripe_sandbox.ids import new_id
from stripe_sandbox.invoicing import DAY, Line
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.invoice import subscription_of
from stripe_sandbox.objects.subscription import subscription, subscription_item
from stripe_sandbox.state import State


def add_interval(ts: int, interval: str, count: int = 1) -> int:
    """``ts`` plus ``count`` calendar intervals (month ends clamp, as Stripe's do)."""
    try:
        start = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
        if interval == "day":
            return ts + count * DAY
        if interval == "week":
            return ts + count * 7 * DAY
        months = count * (12 if interval == "year" else 1)
        month_index = start.month - 1 + months
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return int(start.replace(year=year, month=month, day=day).timestamp())
    except (ValueError, OverflowError, OSError) as exc:
        raise StripeError("The resulting date is out of range.") from exc


def next_period_end(price: JSON, start: int) -> int:
    recurring = price["recurring"] or {"interval": "month", "interval_count": 1}
    return add_interval(start, recurring["interval"], recurring["interval_count"])


def product_name(state: State, price: JSON) -> str:
    product = state.get("product", price["product"])
    return str(product["name"]) if product else str(price["product"])


def period_of(sub: JSON) -> tuple[int, int]:
    item = sub["items"]["data"][0]
    return int(item["current_period_start"]), int(item["current_period_end"])


def set_period(sub: JSON, start: int, end: int) -> None:
    for item in sub["items"]["data"]:
        item["current_period_start"] = start
        item["current_period_end"] = end


def full_lines(state: State, sub: JSON, start: int, end: int, *, trial: bool = False) -> list[Line]:
    lines = []
    for item in sub["items"]["data"]:
        price, qty = item["price"], item["quantity"]
        name = product_name(state, price)
        lines.append(
            Line(
                amount=0 if trial else price["unit_amount"] * qty,
                description=f"Trial period for {name}" if trial else f"{qty} x {name}",
                price_id=price["id"],
                quantity=qty,
                period_start=start,
                period_end=end,
                subscription_item=item["id"],
            )
        )
    return lines


@dataclass(frozen=True, kw_only=True)
class NewSubscription:
    customer: JSON
    prices: list[tuple[JSON, int]]
    trial_days: int | None
    metadata: dict[str, str]
    payment_method: str | None
    description: str | None = None
    trial_end_behavior: str | None = None
    """``trial_settings.end_behavior.missing_payment_method`` (None: Stripe's default)."""
    on_session: bool = False  # the customer is present (checkout) and authenticates


def create_subscription(
    state: State, config: SandboxConfig, new: NewSubscription
) -> tuple[JSON, JSON, ChargeOutcome]:
    """Create and bill a subscription like Stripe's ``subscriptions.create`` does."""
    now = state.now()
    currencies = {price["currency"] for price, _ in new.prices}
    if len(currencies) != 1:
        raise StripeError("All prices on a subscription must have the same currency.")
    first_price = new.prices[0][0]
    trial_end = now + new.trial_days * DAY if new.trial_days else None
    period_end = trial_end or next_period_end(first_price, now)
    sub_id = new_id("sub_")
    items = [
        subscription_item(
            id=new_id("si_"),
            created=now,
            subscription=sub_id,
            price=copy.deepcopy(price),
            quantity=qty,
            start=now,
            end=period_end,
        )
        for price, qty in new.prices
    ]
    sub = subscription(
        id=sub_id,
        created=now,
        customer=new.customer["id"],
        currency=currencies.pop(),
        items=items,
        status="trialing" if trial_end else "incomplete",
        billing_cycle_anchor=period_end if trial_end else now,
        trial_start=now if trial_end else None,
        trial_end=trial_end,
        metadata=new.metadata,
        default_payment_method=new.payment_method,
        description=new.description,
    )
    sub["test_clock"] = new.customer.get("test_clock")  # the customer's, as on Stripe
    if new.trial_end_behavior is not None:
        sub["trial_settings"] = {"end_behavior": {"missing_payment_method": new.trial_end_behavior}}
    state.put("subscription", sub)
    emit(state, "customer.subscription.created", sub)
    inv = invoicing.draft_invoice(
        state,
        config,
        customer=new.customer,
        subscription=sub,
        lines=full_lines(state, sub, now, period_end, trial=trial_end is not None),
        billing_reason="subscription_create",
        period_start=now,
        period_end=now,
    )
    set_latest_invoice(state, sub, inv)
    invoicing.finalize(state, config, inv)
    result = invoicing.charge(state, config, inv, on_session=new.on_session)
    after_payment(state, config, inv, result)
    return sub, inv, result


def set_latest_invoice(state: State, sub: JSON, inv: JSON) -> None:
    sub["latest_invoice"] = inv["id"]
    state.touch("subscription", sub["id"])


ENDED = ("canceled", "incomplete_expired")


def update_status(state: State, config: SandboxConfig, sub: JSON, status: str) -> None:
    if sub["status"] == status:
        return
    before = copy.deepcopy(sub)
    sub["status"] = status
    if status in ENDED:
        now = state.now()
        sub["ended_at"] = now
        sub["canceled_at"] = sub["canceled_at"] or now
        state.touch("subscription", sub["id"])
        emit(state, "customer.subscription.deleted", sub, previous=before)
        return
    state.touch("subscription", sub["id"])
    emit(state, "customer.subscription.updated", sub, previous=before)


def after_payment(state: State, config: SandboxConfig, inv: JSON, result: ChargeOutcome) -> None:
    """Move the invoice's subscription to what the payment implies."""
    sub_id = subscription_of(inv)
    sub = state.get("subscription", sub_id) if sub_id else None
    if sub is None:
        return
    if result is ChargeOutcome.SUCCEEDED:
        if sub["status"] == "paused":
            if (state.get("_sub", sub["id"]) or {}).get("resume_invoice") == inv["id"]:
                mark_resumed(state, sub, copy.deepcopy(sub))  # its resumption invoice is paid
            return
        if sub["status"] in ("incomplete", "past_due", "unpaid"):
            update_status(state, config, sub, "active")
        return
    if inv["billing_reason"] == "subscription_create":
        return  # stays incomplete until the first invoice is paid
    if inv["next_payment_attempt"] is None and inv["attempt_count"] > len(
        config.payment_retry_days
    ):
        final = "canceled" if config.dunning_final_action == "cancel" else "unpaid"
        invoicing.mark_uncollectible(state, inv)
        update_status(state, config, sub, final)
    elif sub["status"] in ("active", "trialing"):
        update_status(state, config, sub, "past_due")


def mark_resumed(state: State, sub: JSON, before: JSON) -> None:
    """A paused subscription is active again (``customer.subscription.resumed``)."""
    sub["status"] = "active"
    state.record("_sub", sub["id"]).pop("resume_invoice", None)
    state.touch("subscription", sub["id"])
    emit(state, "customer.subscription.updated", sub, previous=before)
    emit(state, "customer.subscription.resumed", sub)


def expire_incomplete(state: State, config: SandboxConfig, sub: JSON) -> None:
    """Stripe gives the first invoice 23 hours; then the subscription is over."""
    inv = state.get("invoice", sub["latest_invoice"]) if sub["latest_invoice"] else None
    if inv is not None and inv["status"] == "open":
        invoicing.void(state, inv)
    update_status(state, config, sub, "incomplete_expired")


def find_item(state: State, item_id: str, param: str) -> tuple[JSON, JSON]:
    for sub in state.all("subscription"):
        for item in sub["items"]["data"]:
            if item["id"] == item_id:
                return sub, item
    raise StripeError(
        f"No such subscription item: '{item_id}'", status=404, code="resource_missing", param=param
    )
