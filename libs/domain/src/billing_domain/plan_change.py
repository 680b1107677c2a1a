"""The plan-change rule: upgrade now (prorated), downgrade at the end of the period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.account_changes import AccountState
from billing_domain.errors import Conflict, RuleViolated
from billing_domain.plans import ChangeDirection, PlanChangeEffective, PlanType, change_direction
from billing_domain.timestamps import ensure_utc


@dataclass(frozen=True, kw_only=True)
class PlanChangeDecision:
    """What a plan change request was decided to be; the use case carries it out at Stripe."""

    from_plan: PlanType
    to_plan: PlanType
    direction: ChangeDirection
    effective: PlanChangeEffective
    effective_at: datetime


def decide_plan_change(state: AccountState, target: PlanType, now: datetime) -> PlanChangeDecision:
    """Decide how a live paid subscription moves to ``target``, or refuse.

    Going to free is a cancellation (``RuleViolated``). The subscription must
    grant access (trialing, active, past due), have no cancellation scheduled,
    and not already be on (or scheduled for) the target plan (``Conflict``).
    """
    now = ensure_utc(now, name="now")
    if not target.is_paid:
        raise RuleViolated("moving to the free plan is a cancellation", code="use_cancel")
    if not state.status.has_paid_access:
        raise Conflict(
            f"cannot change plan while the subscription is {state.status.label}",
            code="subscription_inactive",
        )
    if state.cancel_at_period_end:
        raise Conflict(
            "a cancellation is scheduled; resume the subscription first", code="cancel_scheduled"
        )
    direction = change_direction(state.plan, target)
    if direction is ChangeDirection.SAME:
        raise Conflict(f"the tenant is already on {target.value}", code="same_plan")
    if state.pending_plan is not None and state.pending_plan.plan is target:
        raise Conflict(f"a change to {target.value} is already scheduled", code="already_pending")
    if direction is ChangeDirection.UPGRADE:
        effective, effective_at = PlanChangeEffective.NOW, now
    elif state.current_period_end is None:
        raise Conflict("the current period end is unknown", code="period_unknown")
    else:
        effective, effective_at = PlanChangeEffective.PERIOD_END, state.current_period_end
    return PlanChangeDecision(
        from_plan=state.plan,
        to_plan=target,
        direction=direction,
        effective=effective,
        effective_at=effective_at,
    )
