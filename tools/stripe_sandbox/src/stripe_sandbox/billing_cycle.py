"""Time passing: renewals, trial ends, scheduled cancels, schedule phases and dunning.

``advance(state, config, to)`` walks the sandbox clock forward one due moment at a
time, so a jump of three months produces three renewals in order.
"""

from __future__ import annotations

import copy

from stripe_sandbox import invoicing, schedules, trials
from stripe_sandbox.billing_engine import (
    ENDED,
    after_payment,
    expire_incomplete,
    full_lines,
    next_period_end,
    period_of,
    set_latest_invoice,
    set_period,
    update_status,
)
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError
from stripe_sandbox.events import emit
from stripe_sandbox.invoicing import DAY
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.invoice import subscription_of
from stripe_sandbox.plan_changes import ItemChange, preview, take_pending
from stripe_sandbox.state import State

RENEWING = ("active", "trialing", "past_due", "unpaid")
INCOMPLETE_TTL = 23 * 3600
MAX_STEPS = 10_000
MAX_ADVANCE = 5 * 366 * DAY


def _due_moments(state: State, config: SandboxConfig, sub: JSON) -> list[int]:
    if sub["status"] == "incomplete":
        return [int(sub["created"]) + INCOMPLETE_TTL]
    if sub["status"] not in RENEWING:
        return []
    _, end = period_of(sub)
    moments = [end]
    if sub["cancel_at"]:
        moments.append(int(sub["cancel_at"]))
    warning = trials.warning_due_at(state, config, sub)
    if warning is not None:
        moments.append(warning)
    upcoming = _upcoming_at(state, config, sub)
    if upcoming is not None:
        moments.append(upcoming)
    for inv in _invoices_of(state, sub):
        if inv["status"] == "open" and inv["next_payment_attempt"]:
            moments.append(int(inv["next_payment_attempt"]))
        if inv["status"] == "draft" and inv["automatically_finalizes_at"]:
            moments.append(int(inv["automatically_finalizes_at"]))
    if sub["schedule"]:
        sched = state.get("subscription_schedule", sub["schedule"])
        boundary = schedules.next_boundary(sched) if sched else None
        if boundary is not None:
            moments.append(boundary)
    return moments


def _invoices_of(state: State, sub: JSON) -> list[JSON]:
    return [inv for inv in state.all("invoice") if subscription_of(inv) == sub["id"]]


def _upcoming_at(state: State, config: SandboxConfig, sub: JSON) -> int | None:
    """When ``invoice.upcoming`` is due for this period (None: not for this one)."""
    start, end = period_of(sub)
    at = end - config.upcoming_invoice_days * DAY
    record = state.get("_sub", sub["id"]) or {}
    if (
        at < start  # a period shorter than the reminder window gets no reminder
        or sub["status"] == "unpaid"
        or sub["cancel_at_period_end"]
        or record.get("upcoming_sent_for") == end
    ):
        return None
    return at


def advance(state: State, config: SandboxConfig, to: int, *, param: str = "to") -> int:
    """Move the clock to ``to``, running everything due on the way; returns steps run."""
    now = state.now()
    if to < now:
        raise StripeError(
            "The clock cannot go backwards.", code="parameter_invalid_integer", param=param
        )
    if to > now + MAX_ADVANCE:
        raise StripeError(
            "The clock can advance at most five years at a time.",
            code="parameter_invalid_integer",
            param=param,
        )
    steps = 0
    while steps < MAX_STEPS:
        due = [
            (moment, sub["id"])
            for sub in state.all("subscription")
            for moment in _due_moments(state, config, sub)
            if moment <= to
        ]
        if not due:
            break
        moment, sub_id = min(due)
        state.advance_to(moment)
        _run_due(state, config, state.require("subscription", sub_id), moment)
        steps += 1
    state.advance_to(to)
    return steps


def _run_due(state: State, config: SandboxConfig, sub: JSON, now: int) -> None:
    if sub["status"] == "incomplete":
        if now >= sub["created"] + INCOMPLETE_TTL:
            expire_incomplete(state, config, sub)
        return
    record = state.record("_sub", sub["id"])
    _, end = period_of(sub)
    trials.warn_if_due(state, config, sub, now)
    upcoming_at = _upcoming_at(state, config, sub)
    if upcoming_at is not None and now >= upcoming_at:
        record["upcoming_sent_for"] = end
        emit(state, "invoice.upcoming", preview(state, config, sub, [], "create_prorations", now))
    for inv in _invoices_of(state, sub):
        finalizes = inv["automatically_finalizes_at"]
        if inv["status"] == "draft" and finalizes and finalizes <= now:
            _finalize_renewal(state, config, sub, inv)
        attempt = inv["next_payment_attempt"]
        if inv["status"] == "open" and attempt and attempt <= now:
            after_payment(state, config, inv, invoicing.charge(state, config, inv))
    if sub["schedule"]:
        sched = state.get("subscription_schedule", sub["schedule"])
        boundary = schedules.next_boundary(sched) if sched else None
        if sched is not None and boundary is not None and boundary <= now:
            schedules.run_due(state, config, sched, now)
    if sub["status"] in RENEWING and sub["cancel_at"] and sub["cancel_at"] <= now:
        update_status(state, config, sub, "canceled")
        return
    if (
        sub["status"] == "trialing"
        and end <= now
        and trials.end_without_payment_method(state, config, sub)
    ):
        return
    if sub["status"] in RENEWING and end <= now:
        _renew(state, config, sub, end)


def _renew(state: State, config: SandboxConfig, sub: JSON, boundary: int) -> None:
    before = copy.deepcopy(sub)
    new_end = next_period_end(sub["items"]["data"][0]["price"], boundary)
    set_period(sub, boundary, new_end)
    if sub["status"] == "trialing":
        sub["status"] = "active"
    state.touch("subscription", sub["id"])
    emit(state, "customer.subscription.updated", sub, previous=before)
    customer = state.require("customer", sub["customer"])
    inv = invoicing.draft_invoice(
        state,
        config,
        customer=customer,
        subscription=sub,
        lines=[*take_pending(state, sub), *full_lines(state, sub, boundary, new_end)],
        billing_reason="subscription_cycle",
        period_start=before["items"]["data"][0]["current_period_start"],
        period_end=boundary,
    )
    set_latest_invoice(state, sub, inv)
    invoicing.leave_draft(state, inv)


def _finalize_renewal(state: State, config: SandboxConfig, sub: JSON, inv: JSON) -> None:
    """An hour after the period changed: finalize the renewal invoice and charge it."""
    invoicing.finalize(state, config, inv)
    if sub["status"] in ("unpaid", *ENDED):
        return  # Stripe keeps invoicing unpaid subscriptions but stops charging them
    after_payment(state, config, inv, invoicing.charge(state, config, inv))


def cancel_now(state: State, config: SandboxConfig, sub: JSON) -> None:
    if sub["schedule"]:
        sched = state.get("subscription_schedule", sub["schedule"])
        if sched is not None and sched["status"] in ("active", "not_started"):
            schedules.detach(state, config, sched, "canceled")
            return
    update_status(state, config, sub, "canceled")


__all__ = ["ItemChange", "advance", "cancel_now"]
