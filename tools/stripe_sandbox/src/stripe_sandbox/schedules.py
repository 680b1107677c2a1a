"""Subscription schedules: phases computed from a subscription, applied as time passes."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from stripe_sandbox.billing_engine import ENDED, add_interval, period_of, update_status
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError
from stripe_sandbox.events import emit
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.subscription import schedule_phase, subscription_schedule
from stripe_sandbox.plan_changes import apply_changes, change_items, scheduled_changes
from stripe_sandbox.state import State


@dataclass(frozen=True, kw_only=True)
class PhaseSpec:
    items: list[tuple[JSON, int]]
    start_date: int | None
    end_date: int | None
    # (interval, interval_count): current Stripe's phase length (``iterations`` was
    # removed in 2025-09-30.clover). Neither set: one interval of the phase's price.
    duration: tuple[str, int] | None
    proration_behavior: str
    metadata: dict[str, str]


def from_subscription(state: State, config: SandboxConfig, sub: JSON) -> JSON:
    if sub["schedule"]:
        raise StripeError(
            f"You cannot migrate a subscription that is already attached to a schedule: "
            f"`{sub['schedule']}`.",
            param="from_subscription",
        )
    if sub["status"] in ENDED:
        raise StripeError("This subscription is canceled.", param="from_subscription")
    start, end = period_of(sub)
    phase = schedule_phase(
        items=[(item["price"]["id"], item["quantity"]) for item in sub["items"]["data"]],
        currency=sub["currency"],
        start_date=start,
        end_date=end,
    )
    sched = subscription_schedule(
        id=new_id("sub_sched_"),
        created=state.now(),
        customer=sub["customer"],
        subscription=sub["id"],
        phases=[phase],
        status="active",
        end_behavior="release",
        metadata={},
    )
    sched["current_phase"] = {"start_date": start, "end_date": end}
    state.put("subscription_schedule", sched)
    before = copy.deepcopy(sub)
    sub["schedule"] = sched["id"]
    state.touch("subscription", sub["id"])
    emit(state, "subscription_schedule.created", sched)
    emit(state, "customer.subscription.updated", sub, previous=before)
    return sched


def set_phases(
    state: State,
    config: SandboxConfig,
    sched: JSON,
    specs: list[PhaseSpec],
    end_behavior: str | None,
) -> None:
    if sched["status"] not in ("not_started", "active"):
        raise StripeError(f"You cannot update a subscription schedule that is {sched['status']}.")
    before = copy.deepcopy(sched)
    phases: list[JSON] = []
    cursor = sched["phases"][0]["start_date"] if sched["phases"] else state.now()
    for index, spec in enumerate(specs):
        start = spec.start_date if spec.start_date is not None else cursor
        interval = (spec.items[0][0]["recurring"] or {}).get("interval", "month")
        if spec.end_date is not None:
            end = spec.end_date
        elif spec.duration is not None:
            end = add_interval(start, spec.duration[0], spec.duration[1])
        else:
            end = add_interval(start, interval, 1)
        if end <= start:
            raise StripeError(
                "The phase end_date must be after its start_date.",
                param=f"phases[{index}][end_date]",
            )
        currency = spec.items[0][0]["currency"]
        phases.append(
            schedule_phase(
                items=[(price["id"], qty) for price, qty in spec.items],
                currency=currency,
                start_date=start,
                end_date=end,
                proration_behavior=spec.proration_behavior,
                metadata=spec.metadata,
            )
        )
        cursor = end
    sched["phases"] = phases
    if end_behavior:
        sched["end_behavior"] = end_behavior
    refresh_current_phase(sched, state.now())
    state.touch("subscription_schedule", sched["id"])
    emit(state, "subscription_schedule.updated", sched, previous=before)
    _apply_current_phase(state, config, sched)


def _apply_current_phase(state: State, config: SandboxConfig, sched: JSON) -> None:
    """An update that changes the running phase's items takes effect at once, as on Stripe."""
    sub = state.get("subscription", sched["subscription"]) if sched["subscription"] else None
    current = sched["current_phase"]
    if sub is None or current is None:
        return
    phase = next(p for p in sched["phases"] if p["start_date"] == current["start_date"])
    wanted = [(item["price"], item["quantity"]) for item in phase["items"]]
    actual = [(item["price"]["id"], item["quantity"]) for item in sub["items"]["data"]]
    if wanted == actual:
        return
    before = copy.deepcopy(sub)
    changes = scheduled_changes(state, sub, phase["start_date"])
    change_items(state, config, sub, changes, phase["proration_behavior"], state.now())
    emit(state, "customer.subscription.updated", sub, previous=before)


def refresh_current_phase(sched: JSON, now: int) -> None:
    current = next((p for p in sched["phases"] if p["start_date"] <= now < p["end_date"]), None)
    sched["current_phase"] = (
        {"start_date": current["start_date"], "end_date": current["end_date"]}
        if current and sched["status"] == "active"
        else None
    )


def detach(state: State, config: SandboxConfig, sched: JSON, status: str) -> None:
    """End the schedule (released / completed / canceled) and free its subscription."""
    before = copy.deepcopy(sched)
    now = state.now()
    sub = state.get("subscription", sched["subscription"]) if sched["subscription"] else None
    sched["status"] = status
    sched["current_phase"] = None
    if status == "canceled":
        sched["canceled_at"] = now
    else:
        sched["released_at"] = now if status == "released" else None
        sched["completed_at"] = now if status == "completed" else None
        sched["released_subscription"] = sched["subscription"]
        sched["subscription"] = None
    state.touch("subscription_schedule", sched["id"])
    emit(state, f"subscription_schedule.{status}", sched, previous=before)
    if sub is not None:
        sub_before = copy.deepcopy(sub)
        sub["schedule"] = None
        state.touch("subscription", sub["id"])
        if status == "canceled":
            update_status(state, config, sub, "canceled")
        else:
            emit(state, "customer.subscription.updated", sub, previous=sub_before)


def next_boundary(sched: JSON) -> int | None:
    """The next time the schedule must act: a phase start, or the last phase's end."""
    if sched["status"] != "active" or not sched["phases"]:
        return None
    applied = sched.get("current_phase") or {}
    for phase in sched["phases"]:
        if phase["start_date"] > applied.get("start_date", -1):
            return int(phase["start_date"])
    return int(sched["phases"][-1]["end_date"])


def run_due(state: State, config: SandboxConfig, sched: JSON, now: int) -> None:
    """Apply the phase that starts at or before ``now``, or end the schedule."""
    sub = state.get("subscription", sched["subscription"]) if sched["subscription"] else None
    applied = sched.get("current_phase") or {}
    upcoming = [p for p in sched["phases"] if p["start_date"] > applied.get("start_date", -1)]
    if upcoming and upcoming[0]["start_date"] <= now:
        phase = upcoming[0]
        if sub is not None:
            before = copy.deepcopy(sub)
            changes = scheduled_changes(state, sub, phase["start_date"])
            apply_changes(state, sub, changes)
            if phase["metadata"]:
                sub["metadata"] = {**sub["metadata"], **phase["metadata"]}
            emit(state, "customer.subscription.updated", sub, previous=before)
        sched["current_phase"] = {"start_date": phase["start_date"], "end_date": phase["end_date"]}
        state.touch("subscription_schedule", sched["id"])
        return
    if sched["phases"] and sched["phases"][-1]["end_date"] <= now:
        detach(state, config, sched, "completed")
        if sched["end_behavior"] == "cancel" and sub is not None:
            update_status(state, config, sub, "canceled")
