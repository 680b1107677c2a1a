"""The plan-change rule: upgrade now (prorated), downgrade at the end of the period,
unless the owner chooses (``when``); an interval is part of the price chosen.

A higher plan is an upgrade, a lower one a downgrade, whatever the intervals; on the
same plan month -> year is an upgrade (charged now, prorated) and year -> month a
downgrade (at renewal, a subscription schedule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.account_changes import AccountState
from billing_domain.errors import Conflict, RuleViolated
from billing_domain.plans import (
    BillingInterval,
    ChangeDirection,
    PlanChangeEffective,
    PlanType,
    price_change_direction,
)
from billing_domain.timestamps import ensure_utc


@dataclass(frozen=True, kw_only=True)
class PlanChangeDecision:
    """What a plan change request was decided to be; the use case carries it out at Stripe."""

    from_plan: PlanType
    to_plan: PlanType
    direction: ChangeDirection
    effective: PlanChangeEffective
    effective_at: datetime
    from_interval: BillingInterval = BillingInterval.MONTH
    to_interval: BillingInterval = BillingInterval.MONTH

    @property
    def prorate(self) -> bool:
        """A change now is prorated; one at the period end starts a fresh period."""
        return self.effective is PlanChangeEffective.NOW

    @property
    def changes_interval(self) -> bool:
        return self.from_interval is not self.to_interval


def default_when(direction: ChangeDirection) -> PlanChangeEffective:
    """Upgrades take effect now, downgrades at the end of the period."""
    if direction is ChangeDirection.UPGRADE:
        return PlanChangeEffective.NOW
    return PlanChangeEffective.PERIOD_END


def decide_plan_change(
    state: AccountState,
    target: PlanType,
    now: datetime,
    *,
    interval: BillingInterval | None = None,
    when: PlanChangeEffective | None = None,
) -> PlanChangeDecision:
    """Decide how a live paid subscription moves to ``target`` (at ``interval``, by
    default its current one), ``when`` asked (by default upgrades now, downgrades at the
    period end), or refuse.

    Going to free is a cancellation (``RuleViolated``). The subscription must
    grant access (trialing, active, past due), have no cancellation scheduled,
    and not already be on (or scheduled for) the target price (``Conflict``).
    A yearly price moving to a monthly one now is refused (``RuleViolated``
    ``when_not_possible``): Stripe would restart the billing period and leave the unused
    year as account credit, never paid back; it is offered at renewal.
    """
    now = ensure_utc(now, name="now")
    to_interval = interval or state.interval
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
    direction = price_change_direction(state.plan, state.interval, target, to_interval)
    if direction is ChangeDirection.SAME:
        raise Conflict(
            f"the tenant is already on {target.value} ({to_interval.value}ly)", code="same_plan"
        )
    pending = state.pending_plan
    if pending is not None and (pending.plan, pending.interval) == (target, to_interval):
        raise Conflict(f"a change to {target.value} is already scheduled", code="already_pending")
    effective = when or default_when(direction)
    shorter = to_interval.rank < state.interval.rank
    if effective is PlanChangeEffective.NOW and shorter:
        raise RuleViolated(
            "a yearly subscription moves to a monthly price at renewal (when: period_end): "
            "changing it now would leave the unused part of the year as account credit",
            code="when_not_possible",
        )
    if effective is PlanChangeEffective.NOW:
        effective_at = now
    elif state.current_period_end is None:
        raise Conflict("the current period end is unknown", code="period_unknown")
    else:
        effective_at = state.current_period_end
    return PlanChangeDecision(
        from_plan=state.plan,
        to_plan=target,
        direction=direction,
        effective=effective,
        effective_at=effective_at,
        from_interval=state.interval,
        to_interval=to_interval,
    )
