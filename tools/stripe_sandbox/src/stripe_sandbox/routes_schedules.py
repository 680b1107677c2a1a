"""/v1/subscription_schedules: create from a subscription, update phases, release, cancel.

A phase's length is ``end_date`` or ``duration`` (``{interval, interval_count}``), not
both (``parameters_exclusive``); ``iterations`` is refused as an unknown parameter
by the validation of every request (Stripe removed it in 2025-09-30.clover).
"""

from __future__ import annotations

from stripe_sandbox import schedules
from stripe_sandbox.api import Ctx, paginate
from stripe_sandbox.errors import StripeError, parameter_missing
from stripe_sandbox.forms import Params, merge_metadata
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.plan_changes import PRORATION_BEHAVIORS
from stripe_sandbox.routes_catalog import INTERVALS
from stripe_sandbox.schedules import PhaseSpec
from stripe_sandbox.state import State

END_BEHAVIORS = ("release", "cancel")


def phase_specs(state: State, entries: list[Params], now: int) -> list[PhaseSpec]:
    if not entries:
        raise parameter_missing("phases")
    specs = []
    for phase in entries:
        items = phase.items("items")
        if not items:
            raise parameter_missing(phase.name("items"))
        prices = []
        for item in items:
            price = state.require("price", item.req("price"), item.name("price"))
            prices.append((price, item.integer("quantity", minimum=1) or 1))
        duration = phase.sub("duration")
        if duration is not None and phase.has("end_date"):
            raise StripeError(
                "You may only specify one of these parameters: duration, end_date.",
                code="parameters_exclusive",
                param=phase.name("duration"),
            )
        specs.append(
            PhaseSpec(
                items=prices,
                start_date=phase.timestamp_or_now("start_date", now),
                end_date=phase.timestamp_or_now("end_date", now),
                duration=(
                    (
                        duration.choice("interval", INTERVALS) or "month",
                        duration.integer("interval_count", minimum=1) or 1,
                    )
                    if duration
                    else None
                ),
                proration_behavior=phase.choice(
                    "proration_behavior", PRORATION_BEHAVIORS, "create_prorations"
                )
                or "create_prorations",
                metadata=phase.metadata() or {},
            )
        )
    return specs


def create(ctx: Ctx) -> JSON:
    p = ctx.params
    source = p.text("from_subscription")
    if source is None:
        raise StripeError(
            "The sandbox creates schedules only from an existing subscription (from_subscription).",
            code="parameter_missing",
            param="from_subscription",
        )
    if p.has("phases"):
        raise StripeError("You cannot set `phases` if `from_subscription` is set.", param="phases")
    sub = ctx.state.require("subscription", source, "from_subscription")
    sched = schedules.from_subscription(ctx.state, ctx.config, sub)
    sched["metadata"] = p.metadata() or {}
    return sched


def _schedule(ctx: Ctx) -> JSON:
    return ctx.state.require("subscription_schedule", ctx.path["id"], "schedule")


def retrieve(ctx: Ctx) -> JSON:
    return _schedule(ctx)


def update(ctx: Ctx) -> JSON:
    sched = _schedule(ctx)
    p = ctx.params
    end_behavior = p.choice("end_behavior", END_BEHAVIORS)
    if p.has("phases"):
        specs = phase_specs(ctx.state, p.items("phases"), ctx.now)
        schedules.set_phases(ctx.state, ctx.config, sched, specs, end_behavior)
    elif end_behavior is not None:
        sched["end_behavior"] = end_behavior
    sched["metadata"] = merge_metadata(sched["metadata"], p.metadata())
    ctx.state.touch("subscription_schedule", sched["id"])
    return sched


def _end(ctx: Ctx, status: str) -> JSON:
    sched = _schedule(ctx)
    if sched["status"] not in ("not_started", "active"):
        raise StripeError(
            f"You cannot {'release' if status == 'released' else 'cancel'} a subscription "
            f"schedule that is currently in the `{sched['status']}` status. It must be in one "
            "of the following statuses: `not_started`, `active`.",
        )
    schedules.detach(ctx.state, ctx.config, sched, status)
    return sched


def release(ctx: Ctx) -> JSON:
    return _end(ctx, "released")


def cancel(ctx: Ctx) -> JSON:
    return _end(ctx, "canceled")


def list_(ctx: Ctx) -> JSON:
    found = ctx.state.all("subscription_schedule")
    customer = ctx.params.text("customer")
    if customer is not None:
        found = [s for s in found if s["customer"] == customer]
    return paginate(ctx.params, found, "/v1/subscription_schedules")


ROUTES = [
    ("POST", "/v1/subscription_schedules", create),
    ("GET", "/v1/subscription_schedules", list_),
    ("GET", "/v1/subscription_schedules/{id}", retrieve),
    ("POST", "/v1/subscription_schedules/{id}", update),
    ("POST", "/v1/subscription_schedules/{id}/release", release),
    ("POST", "/v1/subscription_schedules/{id}/cancel", cancel),
]
