"""Trials as Stripe runs them: the end without a payment method, ``trial_end`` moved or
set to ``now``, the ``trial_will_end`` warning, and resuming a paused subscription.

What Stripe documents, and what the sandbox does:

- ``trial_settings.end_behavior.missing_payment_method`` (``create_invoice`` default,
  ``pause``, ``cancel``) decides what a trial ending with no payment method (neither the
  subscription's ``default_payment_method`` nor the customer's
  ``invoice_settings.default_payment_method``) does: ``pause`` -> status ``paused``, no
  invoice, ``customer.subscription.paused``; ``cancel`` -> ``canceled``
  (``customer.subscription.deleted``); ``create_invoice`` -> the usual renewal invoice.
- ``customer.subscription.trial_will_end`` "occurs three days before a subscription's
  trial period is scheduled to end, or immediately when a trial is ended early
  (``trial_end=now``) ... If a trial is shortened so that fewer than three days remain,
  this event can fire immediately". Stripe does not document a second warning after an
  extension; the sandbox ties the warning to the scheduled end: it is sent once per
  ``trial_end`` value, so moving the end re-arms it (three days before the new end, or at
  once when fewer than three days remain).
- ``trial_end=now`` ends the trial at once: the billing cycle restarts now and the first
  invoice is created and charged in the same request.
- ``POST /v1/subscriptions/{id}/resume`` resumes only a ``paused`` subscription.
  ``billing_cycle_anchor[type]=now`` (default; an object in this API version) starts a
  new period and invoices it;
  ``payment_behavior=resume_on_payment_success`` charges during the request and leaves the
  subscription ``paused`` until that invoice is paid; ``resume_on_payment_attempt``
  (default) resumes at once and a failed charge leaves it ``past_due``.
"""

from __future__ import annotations

import copy

from stripe_sandbox import invoicing
from stripe_sandbox.billing_engine import (
    after_payment,
    full_lines,
    mark_resumed,
    next_period_end,
    period_of,
    set_latest_invoice,
    set_period,
    update_status,
)
from stripe_sandbox.cards import ChargeOutcome
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError
from stripe_sandbox.events import emit
from stripe_sandbox.invoicing import DAY
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.state import State

END_BEHAVIORS = ("create_invoice", "pause", "cancel")
PAYMENT_METHOD_COLLECTION = ("always", "if_required")
RESUME_ANCHORS = ("now", "unchanged")
RESUME_PAYMENT_BEHAVIORS = ("resume_on_payment_attempt", "resume_on_payment_success")
MAX_TRIAL_SECONDS = 730 * DAY


def end_behavior(sub: JSON) -> str:
    settings = sub.get("trial_settings") or {}
    behavior = (settings.get("end_behavior") or {}).get("missing_payment_method")
    return str(behavior or "create_invoice")


def set_end_behavior(sub: JSON, behavior: str | None) -> None:
    if behavior is not None:
        sub["trial_settings"] = {"end_behavior": {"missing_payment_method": behavior}}


def has_payment_method(state: State, sub: JSON) -> bool:
    if sub.get("default_payment_method") or sub.get("default_source"):
        return True
    customer = state.get("customer", sub["customer"]) or {}
    settings = customer.get("invoice_settings") or {}
    return bool(settings.get("default_payment_method") or customer.get("default_source"))


# -- the warning -------------------------------------------------------------------


def warning_due_at(state: State, config: SandboxConfig, sub: JSON) -> int | None:
    """When ``trial_will_end`` is due for the current ``trial_end`` (None: sent or no trial)."""
    trial_end = sub["trial_end"]
    if sub["status"] != "trialing" or not trial_end:
        return None
    record = state.get("_sub", sub["id"]) or {}
    if record.get("trial_will_end_sent_for") == trial_end:
        return None
    return int(trial_end) - config.trial_will_end_days * DAY


def warn_if_due(state: State, config: SandboxConfig, sub: JSON, now: int) -> None:
    due = warning_due_at(state, config, sub)
    if due is not None and now >= due:
        state.record("_sub", sub["id"])["trial_will_end_sent_for"] = sub["trial_end"]
        emit(state, "customer.subscription.trial_will_end", sub)


# -- the end ----------------------------------------------------------------------


def end_without_payment_method(state: State, config: SandboxConfig, sub: JSON) -> bool:
    """At the end of a trial: pause or cancel a subscription with no payment method
    (True), or leave it to the usual first invoice (False)."""
    if has_payment_method(state, sub):
        return False
    behavior = end_behavior(sub)
    if behavior == "pause":
        before = copy.deepcopy(sub)
        sub["status"] = "paused"
        state.touch("subscription", sub["id"])
        emit(state, "customer.subscription.updated", sub, previous=before)
        emit(state, "customer.subscription.paused", sub)
        return True
    if behavior == "cancel":
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        update_status(state, config, sub, "canceled")
        return True
    return False


def end_trial_now(state: State, config: SandboxConfig, sub: JSON) -> None:
    """``trial_end=now``: warn at once, restart the cycle now and invoice it now."""
    now = state.now()
    sub["trial_end"] = now
    state.record("_sub", sub["id"])["trial_will_end_sent_for"] = now
    if end_without_payment_method(state, config, sub):
        emit(state, "customer.subscription.trial_will_end", sub)
        return
    inv = _restart_cycle(state, config, sub, now, billing_reason="subscription_update")
    # sent in the same request, with the subscription as the request leaves it (a
    # snapshot still "trialing" would arrive after the answer and look current)
    emit(state, "customer.subscription.trial_will_end", sub)
    charge_now(state, config, inv)


def preview_end_now(state: State, config: SandboxConfig, sub: JSON) -> JSON:
    """``invoices.create_preview`` with ``subscription_details[trial_end]=now``: the first
    invoice ending the trial now would make (a full period from now)."""
    now = state.now()
    after = copy.deepcopy(sub)
    new_end = next_period_end(after["items"]["data"][0]["price"], now)
    set_period(after, now, new_end)
    after["status"] = "active"
    return invoicing.draft_invoice(
        state,
        config,
        customer=state.require("customer", sub["customer"]),
        subscription=after,
        lines=full_lines(state, after, now, new_end),
        billing_reason="subscription_update",
        period_start=now,
        period_end=now,
        preview=True,
    )


def move_trial_end(state: State, config: SandboxConfig, sub: JSON, trial_end: int) -> None:
    """A later (or earlier, still future) end: the trial period ends there; nothing is
    invoiced (``proration_behavior`` has nothing to prorate on a trial's zero amount) and
    the warning is re-armed for the new end (at once when fewer than 3 days remain)."""
    now = state.now()
    if sub["status"] != "trialing":
        raise StripeError(
            "The sandbox moves trial_end only for trialing subscriptions.", param="trial_end"
        )
    if trial_end <= now:
        raise StripeError(
            "Invalid timestamp: must be an integer Unix timestamp in the future.",
            param="trial_end",
        )
    if trial_end > now + MAX_TRIAL_SECONDS:
        raise StripeError(
            "The maximum number of trial period days is 730 (2 years).", param="trial_end"
        )
    start, _ = period_of(sub)
    sub["trial_end"] = trial_end
    sub["billing_cycle_anchor"] = trial_end
    set_period(sub, start, trial_end)
    state.touch("subscription", sub["id"])


def _restart_cycle(
    state: State, config: SandboxConfig, sub: JSON, now: int, *, billing_reason: str
) -> JSON:
    """A new billing period from ``now``, invoiced and charged at once."""
    new_end = next_period_end(sub["items"]["data"][0]["price"], now)
    set_period(sub, now, new_end)
    sub["billing_cycle_anchor"] = now
    if sub["status"] == "trialing":
        sub["status"] = "active"
    state.touch("subscription", sub["id"])
    customer = state.require("customer", sub["customer"])
    inv = invoicing.draft_invoice(
        state,
        config,
        customer=customer,
        subscription=sub,
        lines=full_lines(state, sub, now, new_end),
        billing_reason=billing_reason,
        period_start=now,
        period_end=now,
    )
    set_latest_invoice(state, sub, inv)
    invoicing.finalize(state, config, inv)
    return inv


def charge_now(state: State, config: SandboxConfig, inv: JSON) -> ChargeOutcome:
    result = invoicing.charge(state, config, inv)
    after_payment(state, config, inv, result)
    return result


# -- resume -----------------------------------------------------------------------


def resume(
    state: State,
    config: SandboxConfig,
    sub: JSON,
    *,
    anchor: str,
    payment_behavior: str,
) -> None:
    if sub["status"] != "paused":
        raise StripeError("Only paused subscriptions can be resumed.", param="id")
    now = state.now()
    before = copy.deepcopy(sub)
    if anchor == "unchanged":
        _, end = period_of(sub)
        if end > now:
            mark_resumed(state, sub, before)
            return
    new_end = next_period_end(sub["items"]["data"][0]["price"], now)
    set_period(sub, now, new_end)
    sub["billing_cycle_anchor"] = now
    state.touch("subscription", sub["id"])
    customer = state.require("customer", sub["customer"])
    inv = invoicing.draft_invoice(
        state,
        config,
        customer=customer,
        subscription=sub,
        lines=full_lines(state, sub, now, new_end),
        billing_reason="subscription_update",
        period_start=now,
        period_end=now,
    )
    set_latest_invoice(state, sub, inv)
    state.record("_sub", sub["id"])["resume_invoice"] = inv["id"]
    invoicing.finalize(state, config, inv)
    if payment_behavior == "resume_on_payment_success":
        if invoicing.charge(state, config, inv) is ChargeOutcome.SUCCEEDED:
            mark_resumed(state, sub, before)
        return  # stays paused until the resumption invoice is paid
    mark_resumed(state, sub, before)
    if invoicing.charge(state, config, inv) is not ChargeOutcome.SUCCEEDED:
        update_status(state, config, sub, "past_due")
