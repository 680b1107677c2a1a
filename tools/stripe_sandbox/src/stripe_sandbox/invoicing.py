"""Invoices: build from line specs, finalize, charge, and what a payment changes."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

from stripe_sandbox import payments
from stripe_sandbox.cards import ChargeOutcome
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.events import emit
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.invoice import invoice, line_item, subscription_of
from stripe_sandbox.objects.payment import invoice_item
from stripe_sandbox.state import State

DAY = 86_400
# Stripe leaves a subscription's renewal invoice a draft for about an hour, then
# finalizes and charges it.
DRAFT_SECONDS = 3600


@dataclass(frozen=True, kw_only=True)
class Line:
    amount: int
    description: str
    price_id: str
    quantity: int
    period_start: int
    period_end: int
    subscription_item: str | None
    proration: bool = False
    invoice_item: str | None = None


def product_of(state: State, price_id: str) -> str:
    return str(state.require("price", price_id)["product"])


def build_lines(
    state: State,
    invoice_id: str | None,
    subscription: str | None,
    lines: list[Line],
    currency: str,
) -> list[JSON]:
    return [
        line_item(
            id=new_id("il_"),
            invoice=invoice_id,
            amount=line.amount,
            currency=currency,
            description=line.description,
            period_start=line.period_start,
            period_end=line.period_end,
            price_id=line.price_id,
            product=product_of(state, line.price_id),
            quantity=line.quantity,
            subscription=subscription,
            subscription_item=line.subscription_item,
            proration=line.proration,
            invoice_item=line.invoice_item,
        )
        for line in lines
    ]


def invoice_items(state: State, sub: JSON, lines: list[Line]) -> list[Line]:
    """Pending invoice items for proration lines (``invoiceitem.created``), as on Stripe."""
    made = []
    for line in lines:
        item = invoice_item(
            id=new_id("ii_"),
            created=state.now(),
            amount=line.amount,
            currency=sub["currency"],
            customer=sub["customer"],
            description=line.description,
            period_start=line.period_start,
            period_end=line.period_end,
            price=line.price_id,
            product=product_of(state, line.price_id),
            quantity=line.quantity,
            subscription=sub["id"],
            subscription_item=line.subscription_item,
            proration=line.proration,
        )
        state.put("invoiceitem", item)
        emit(state, "invoiceitem.created", item)
        made.append(dataclasses.replace(line, invoice_item=item["id"]))
    return made


def draft_invoice(
    state: State,
    config: SandboxConfig,
    *,
    customer: JSON,
    subscription: JSON | None,
    lines: list[Line],
    billing_reason: str,
    period_start: int,
    period_end: int,
    preview: bool = False,
) -> JSON:
    invoice_id = new_id("upcoming_in_" if preview else "in_")
    sub_id = subscription["id"] if subscription else None
    currency = subscription["currency"] if subscription else "usd"
    inv = invoice(
        id=invoice_id,
        created=state.now(),
        customer=customer,
        subscription=sub_id,
        subscription_metadata=dict(subscription["metadata"]) if subscription else None,
        currency=currency,
        lines=build_lines(state, None if preview else invoice_id, sub_id, lines, currency),
        billing_reason=billing_reason,
        period_start=period_start,
        period_end=period_end,
        default_payment_method=None,
    )
    if preview:
        return inv
    for line in lines:
        item = state.get("invoiceitem", line.invoice_item) if line.invoice_item else None
        if item is not None:
            item["invoice"] = invoice_id
            state.touch("invoiceitem", item["id"])
    state.put("invoice", inv)
    emit(state, "invoice.created", inv)
    return inv


def leave_draft(state: State, inv: JSON) -> None:
    """A renewal invoice stays a draft for an hour (``automatically_finalizes_at``)."""
    inv["automatically_finalizes_at"] = int(inv["created"]) + DRAFT_SECONDS
    state.touch("invoice", inv["id"])


def finalize(state: State, config: SandboxConfig, inv: JSON) -> None:
    if inv["status"] != "draft":
        return
    customer = state.require("customer", inv["customer"])
    sequence = customer["next_invoice_sequence"]
    customer["next_invoice_sequence"] = sequence + 1
    state.touch("customer", customer["id"])
    now = state.now()
    inv.update(
        status="open",
        number=f"{customer['invoice_prefix']}-{sequence:04d}",
        hosted_invoice_url=f"{config.base_url}/invoice/{inv['id']}",
        invoice_pdf=f"{config.base_url}/invoice/{inv['id']}/pdf",
        effective_at=now,
        auto_advance=True,
        automatically_finalizes_at=None,
    )
    inv["status_transitions"]["finalized_at"] = now
    state.touch("invoice", inv["id"])
    emit(state, "invoice.finalized", inv)
    if inv["amount_due"] == 0:
        mark_paid(state, config, inv)
    else:
        payments.create_intent(state, inv)


def mark_paid(state: State, config: SandboxConfig, inv: JSON) -> None:
    before = copy.deepcopy(inv)
    now = state.now()
    inv.update(
        status="paid",
        amount_paid=inv["amount_due"],
        amount_remaining=0,
        next_payment_attempt=None,
        attempted=True,
        auto_advance=False,
    )
    inv["status_transitions"]["paid_at"] = now
    state.touch("invoice", inv["id"])
    emit(state, "invoice.paid", inv, previous=before)
    emit(state, "invoice.payment_succeeded", inv, previous=before)


def void(state: State, inv: JSON) -> None:
    inv.update(status="void", next_payment_attempt=None, auto_advance=False, amount_remaining=0)
    inv["status_transitions"]["voided_at"] = state.now()
    state.touch("invoice", inv["id"])
    emit(state, "invoice.voided", inv)
    payments.cancel_intent(state, inv)


def mark_uncollectible(state: State, inv: JSON) -> None:
    """What Stripe does to an invoice whose retries are exhausted (Billing settings)."""
    if inv["status"] != "open":
        return
    inv.update(status="uncollectible", next_payment_attempt=None, auto_advance=False)
    inv["status_transitions"]["marked_uncollectible_at"] = state.now()
    state.touch("invoice", inv["id"])
    emit(state, "invoice.marked_uncollectible", inv)


def charge(
    state: State,
    config: SandboxConfig,
    inv: JSON,
    payment_method: str | None = None,
    *,
    on_session: bool = False,
) -> ChargeOutcome:
    """Attempt to collect an open invoice; updates it and emits the invoice.* events.

    ``on_session``: the customer is present (hosted invoice page) and completes 3D Secure.
    """
    if inv["status"] != "open":
        return ChargeOutcome.SUCCEEDED
    if inv["amount_due"] == 0:
        mark_paid(state, config, inv)
        return ChargeOutcome.SUCCEEDED
    customer = state.require("customer", inv["customer"])
    pm = payment_method or default_payment_method(state, customer, inv)
    result = payments.attempt(state, config, inv, pm, on_session=on_session)
    before = copy.deepcopy(inv)
    inv["attempt_count"] += 1
    inv["attempted"] = True
    if result is ChargeOutcome.SUCCEEDED:
        inv["default_payment_method"] = pm
        mark_paid(state, config, inv)
        return result
    inv["next_payment_attempt"] = next_attempt(config, inv, state.now())
    state.touch("invoice", inv["id"])
    emit(state, "invoice.payment_failed", inv)
    if result is ChargeOutcome.REQUIRES_ACTION:
        emit(state, "invoice.payment_action_required", inv)
    emit(state, "invoice.updated", inv, previous=before)
    return result


def next_attempt(config: SandboxConfig, inv: JSON, now: int) -> int | None:
    if inv["billing_reason"] == "subscription_create":
        return None  # the first invoice is paid on-session; Stripe does not retry it
    index = int(inv["attempt_count"]) - 1
    if index >= len(config.payment_retry_days):
        return None
    return now + config.payment_retry_days[index] * DAY


def default_payment_method(state: State, customer: JSON, inv: JSON) -> str | None:
    sub_id = subscription_of(inv)
    if sub_id:
        sub = state.get("subscription", sub_id)
        if sub is not None and sub["default_payment_method"]:
            pm = sub["default_payment_method"]
            return str(pm)
    pm = customer["invoice_settings"]["default_payment_method"]
    return None if pm is None else str(pm)
