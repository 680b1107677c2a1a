"""Item changes on a subscription: proration lines, previews and applying the change."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from dataclasses import dataclass

from stripe_sandbox import invoicing
from stripe_sandbox.billing_engine import (
    after_payment,
    full_lines,
    next_period_end,
    period_of,
    product_name,
    set_latest_invoice,
    set_period,
)
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError
from stripe_sandbox.ids import new_id
from stripe_sandbox.invoicing import Line
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.subscription import subscription_item
from stripe_sandbox.state import State

PRORATION_BEHAVIORS = ("create_prorations", "none", "always_invoice")


@dataclass(frozen=True, kw_only=True)
class ItemChange:
    item_id: str | None
    price: JSON | None
    quantity: int | None
    deleted: bool = False


def _date(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%d %b %Y")


def _prorated(amount: int, remaining: int, total: int) -> int:
    return round(amount * remaining / total) if total > 0 else 0


def proration_lines(
    state: State, sub: JSON, changes: list[ItemChange], proration_date: int
) -> list[Line]:
    if sub["status"] == "trialing":
        return []
    start, end = period_of(sub)
    when = min(max(proration_date, start), end)
    remaining, total = end - when, end - start
    items = {item["id"]: item for item in sub["items"]["data"]}
    lines: list[Line] = []

    def line(price: JSON, qty: int, sign: int, item_id: str | None) -> None:
        amount = _prorated(price["unit_amount"] * qty, remaining, total)
        what = "Unused time on" if sign < 0 else "Remaining time on"
        lines.append(
            Line(
                amount=sign * amount,
                description=f"{what} {product_name(state, price)} after {_date(when)}",
                price_id=price["id"],
                quantity=qty,
                period_start=when,
                period_end=end,
                subscription_item=item_id,
                proration=True,
            )
        )

    for change in changes:
        old = items.get(change.item_id) if change.item_id else None
        if old is not None:
            new_price = change.price or old["price"]
            new_qty = change.quantity if change.quantity is not None else old["quantity"]
            if change.deleted:
                line(old["price"], old["quantity"], -1, old["id"])
            elif new_price["id"] != old["price"]["id"] or new_qty != old["quantity"]:
                line(old["price"], old["quantity"], -1, old["id"])
                line(new_price, new_qty, +1, old["id"])
        elif change.price is not None:
            line(change.price, change.quantity or 1, +1, None)
    return lines


def scheduled_changes(state: State, sub: JSON, at: int) -> list[ItemChange]:
    """The item changes the subscription's schedule makes at ``at`` (none if no phase starts)."""
    sched = state.get("subscription_schedule", sub["schedule"]) if sub["schedule"] else None
    if sched is None or sched["status"] != "active":
        return []
    phase = next((p for p in sched["phases"] if p["start_date"] == at), None)
    if phase is None:
        return []
    old_items = sub["items"]["data"]
    changes = [
        ItemChange(
            item_id=old_items[i]["id"] if i < len(old_items) else None,
            price=state.require("price", item["price"]),
            quantity=item["quantity"],
        )
        for i, item in enumerate(phase["items"])
    ]
    changes += [
        ItemChange(item_id=item["id"], price=None, quantity=None, deleted=True)
        for item in old_items[len(phase["items"]) :]
    ]
    return changes


def apply_changes(state: State, sub: JSON, changes: list[ItemChange]) -> None:
    start, end = period_of(sub)
    items = sub["items"]["data"]
    for change in changes:
        existing = next((i for i in items if i["id"] == change.item_id), None)
        if existing is not None and change.deleted:
            items.remove(existing)
        elif existing is not None:
            if change.price is not None:
                replacement = subscription_item(
                    id=existing["id"],
                    created=existing["created"],
                    subscription=sub["id"],
                    price=copy.deepcopy(change.price),
                    quantity=change.quantity or existing["quantity"],
                    start=start,
                    end=end,
                )
                replacement["metadata"] = existing["metadata"]
                existing.clear()
                existing.update(replacement)
            elif change.quantity is not None:
                existing["quantity"] = change.quantity
        elif change.price is not None:
            items.append(
                subscription_item(
                    id=new_id("si_"),
                    created=state.now(),
                    subscription=sub["id"],
                    price=copy.deepcopy(change.price),
                    quantity=change.quantity or 1,
                    start=start,
                    end=end,
                )
            )
    if not items:
        raise StripeError("A subscription must have at least one item.", param="items")
    state.touch("subscription", sub["id"])


def pending_lines(state: State, sub: JSON) -> list[Line]:
    record = state.get("_sub", sub["id"]) or {}
    return [Line(**line) for line in record.get("pending_lines", [])]


def add_pending(state: State, sub: JSON, lines: list[Line]) -> None:
    record = state.record("_sub", sub["id"])
    record["pending_lines"] = [
        *record.get("pending_lines", []),
        *(dataclasses.asdict(line) for line in lines),
    ]


def take_pending(state: State, sub: JSON) -> list[Line]:
    lines = pending_lines(state, sub)
    state.record("_sub", sub["id"])["pending_lines"] = []
    return lines


def _cadence(price: JSON) -> tuple[str, int]:
    recurring = price.get("recurring") or {}
    return str(recurring.get("interval") or "month"), int(recurring.get("interval_count") or 1)


def changes_interval(sub: JSON, changes: list[ItemChange]) -> bool:
    """Whether the change moves the subscription to a price billed at another interval.

    Stripe then resets the billing cycle anchor to the time of the change and invoices
    at once: credit for the unused time of the old price (when prorating), and the new
    price's whole first period.
    """
    current = _cadence(sub["items"]["data"][0]["price"])
    return any(
        c.price is not None and not c.deleted and _cadence(c.price) != current for c in changes
    )


def _interval_change_lines(
    state: State, sub: JSON, changes: list[ItemChange], behavior: str, proration_date: int
) -> list[Line]:
    """The credits for the unused time of the old prices (the new ones bill whole)."""
    if behavior == "none":
        return []
    return [
        line for line in proration_lines(state, sub, changes, proration_date) if line.amount < 0
    ]


def _change_interval_now(
    state: State,
    config: SandboxConfig,
    sub: JSON,
    changes: list[ItemChange],
    behavior: str,
    proration_date: int,
) -> None:
    now = state.now()
    credits = _interval_change_lines(state, sub, changes, behavior, proration_date)
    apply_changes(state, sub, changes)
    new_end = next_period_end(sub["items"]["data"][0]["price"], now)
    set_period(sub, now, new_end)
    sub["billing_cycle_anchor"] = now
    if credits:
        credits = invoicing.invoice_items(state, sub, credits)
    customer = state.require("customer", sub["customer"])
    inv = invoicing.draft_invoice(
        state,
        config,
        customer=customer,
        subscription=sub,
        lines=[*take_pending(state, sub), *credits, *full_lines(state, sub, now, new_end)],
        billing_reason="subscription_update",
        period_start=now,
        period_end=new_end,
    )
    set_latest_invoice(state, sub, inv)
    invoicing.finalize(state, config, inv)
    after_payment(state, config, inv, invoicing.charge(state, config, inv))


def change_items(
    state: State,
    config: SandboxConfig,
    sub: JSON,
    changes: list[ItemChange],
    behavior: str,
    proration_date: int,
) -> None:
    """Apply the change; prorations go on the next invoice or on one issued now. A change
    of billing interval restarts the period now and is invoiced at once (as Stripe does)."""
    if sub["status"] != "trialing" and changes_interval(sub, changes):
        _change_interval_now(state, config, sub, changes, behavior, proration_date)
        return
    lines = [] if behavior == "none" else proration_lines(state, sub, changes, proration_date)
    apply_changes(state, sub, changes)
    if lines and behavior in ("create_prorations", "always_invoice"):
        lines = invoicing.invoice_items(state, sub, lines)
    if behavior == "create_prorations" and lines:
        add_pending(state, sub, lines)
    if behavior == "always_invoice" and lines:
        customer = state.require("customer", sub["customer"])
        _, end = period_of(sub)
        inv = invoicing.draft_invoice(
            state,
            config,
            customer=customer,
            subscription=sub,
            lines=[*take_pending(state, sub), *lines],
            billing_reason="subscription_update",
            period_start=proration_date,
            period_end=end,
        )
        set_latest_invoice(state, sub, inv)
        invoicing.finalize(state, config, inv)
        after_payment(state, config, inv, invoicing.charge(state, config, inv))


def preview(
    state: State,
    config: SandboxConfig,
    sub: JSON,
    changes: list[ItemChange],
    behavior: str,
    proration_date: int,
) -> JSON:
    """What ``invoices.create_preview`` answers: the invoice the change (or renewal) makes."""
    customer = state.require("customer", sub["customer"])
    start, end = period_of(sub)
    if changes and sub["status"] != "trialing" and changes_interval(sub, changes):
        return _interval_change_preview(state, config, sub, changes, behavior, proration_date)
    prorations = [] if behavior == "none" else proration_lines(state, sub, changes, proration_date)
    after = copy.deepcopy(sub)
    if changes:
        apply_changes(State(), after, changes)
    else:
        scheduled = scheduled_changes(state, sub, end)
        if scheduled:
            apply_changes(State(), after, scheduled)
    if behavior == "always_invoice" and changes:
        return invoicing.draft_invoice(
            state,
            config,
            customer=customer,
            subscription=after,
            lines=[*pending_lines(state, sub), *prorations],
            billing_reason="subscription_update",
            period_start=proration_date,
            period_end=end,
            preview=True,
        )
    next_end = next_period_end(after["items"]["data"][0]["price"], end)
    return invoicing.draft_invoice(
        state,
        config,
        customer=customer,
        subscription=after,
        lines=[*pending_lines(state, sub), *prorations, *full_lines(state, after, end, next_end)],
        billing_reason="upcoming",
        period_start=start,
        period_end=end,
        preview=True,
    )


def _interval_change_preview(
    state: State,
    config: SandboxConfig,
    sub: JSON,
    changes: list[ItemChange],
    behavior: str,
    proration_date: int,
) -> JSON:
    """The invoice a change of interval issues at once: credits, then a whole new period."""
    now = state.now()
    credits = _interval_change_lines(state, sub, changes, behavior, proration_date)
    after = copy.deepcopy(sub)
    apply_changes(State(), after, changes)
    new_end = next_period_end(after["items"]["data"][0]["price"], now)
    return invoicing.draft_invoice(
        state,
        config,
        customer=state.require("customer", sub["customer"]),
        subscription=after,
        lines=[*pending_lines(state, sub), *credits, *full_lines(state, after, now, new_end)],
        billing_reason="subscription_update",
        period_start=now,
        period_end=new_end,
        preview=True,
    )
