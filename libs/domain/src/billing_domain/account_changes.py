"""What changed between two states of a billing account, as domain events.

A pure function, so the aggregate (and anyone holding a before/after pair)
describes changes the same way. Nothing is recorded when nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.account_events import (
    AccountEvent,
    EntitlementsChanged,
    PendingPlanChangeDropped,
    SubscriptionActivated,
    SubscriptionCanceled,
    SubscriptionCancelScheduled,
    SubscriptionPlanChanged,
    SubscriptionResumed,
    SubscriptionUpdated,
)
from billing_domain.plan_catalogue import granted_plan
from billing_domain.plans import BillingInterval, PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription_snapshot import PendingPlanChange


@dataclass(frozen=True, kw_only=True)
class AccountState:
    """The subscription-facing fields of a ``BillingAccount`` at one moment."""

    subscription_id: str | None
    plan: PlanType
    status: SubscriptionStatus
    cancel_at_period_end: bool
    current_period_end: datetime | None
    trial_end: datetime | None
    pending_plan: PendingPlanChange | None
    interval: BillingInterval = BillingInterval.MONTH

    @property
    def has_paid_access(self) -> bool:
        return self.plan.is_paid and self.status.has_paid_access

    @property
    def granted(self) -> PlanType:
        """The plan whose features the tenant gets in this state."""
        return granted_plan(self.plan, self.status)


def entitlement_change(
    tenant_id: str, before: AccountState, after: AccountState
) -> list[AccountEvent]:
    """``EntitlementsChanged`` when the granted plan differs, else nothing (a change of
    price or interval alone, a status change that keeps access, grant nothing new)."""
    if before.granted is after.granted:
        return []
    return [
        EntitlementsChanged(
            tenant_id=tenant_id,
            subscription_id=after.subscription_id or before.subscription_id,
            from_plan=before.granted,
            to_plan=after.granted,
        )
    ]


def describe_changes(
    tenant_id: str, before: AccountState, after: AccountState
) -> list[AccountEvent]:
    sub = after.subscription_id or before.subscription_id or ""
    if after.status.is_ended:
        if before.status.is_ended and not before.plan.is_paid:
            return []
        return [
            SubscriptionCanceled(
                tenant_id=tenant_id,
                subscription_id=sub,
                previous_plan=before.plan,
                status=after.status,
            ),
            *entitlement_change(tenant_id, before, after),
        ]
    events: list[AccountEvent] = []
    activated = after.has_paid_access and not before.has_paid_access
    if activated:
        events.append(
            SubscriptionActivated(
                tenant_id=tenant_id, subscription_id=sub, plan=after.plan, status=after.status
            )
        )
    elif after.plan != before.plan or after.interval != before.interval:
        events.append(
            SubscriptionPlanChanged(
                tenant_id=tenant_id,
                subscription_id=sub,
                from_plan=before.plan,
                to_plan=after.plan,
                effective=PlanChangeEffective.NOW,
                effective_at=None,
                from_interval=before.interval,
                to_interval=after.interval,
            )
        )
    events.extend(entitlement_change(tenant_id, before, after))
    events.extend(_pending_plan_events(tenant_id, sub, before, after))
    if after.cancel_at_period_end and not before.cancel_at_period_end:
        events.append(
            SubscriptionCancelScheduled(
                tenant_id=tenant_id, subscription_id=sub, cancel_at=after.current_period_end
            )
        )
    elif before.cancel_at_period_end and not after.cancel_at_period_end:
        events.append(SubscriptionResumed(tenant_id=tenant_id, subscription_id=sub))
    if not activated and _lifecycle_changed(before, after):
        events.append(
            SubscriptionUpdated(
                tenant_id=tenant_id,
                subscription_id=sub,
                status=after.status,
                previous_status=before.status,
                current_period_end=after.current_period_end,
                trial_end=after.trial_end,
            )
        )
    return events


def _pending_plan_events(
    tenant_id: str, sub: str, before: AccountState, after: AccountState
) -> list[AccountEvent]:
    if after.pending_plan == before.pending_plan:
        return []
    if after.pending_plan is not None:
        return [
            SubscriptionPlanChanged(
                tenant_id=tenant_id,
                subscription_id=sub,
                from_plan=after.plan,
                to_plan=after.pending_plan.plan,
                effective=PlanChangeEffective.PERIOD_END,
                effective_at=after.pending_plan.effective_at,
                from_interval=after.interval,
                to_interval=after.pending_plan.interval,
            )
        ]
    assert before.pending_plan is not None
    was_pending = (before.pending_plan.plan, before.pending_plan.interval)
    moved = (after.plan, after.interval) != (before.plan, before.interval)
    if moved and (after.plan, after.interval) == was_pending:
        return []  # the scheduled change took effect: already a plan change
    return [
        PendingPlanChangeDropped(
            tenant_id=tenant_id, subscription_id=sub, plan=before.pending_plan.plan
        )
    ]


def _lifecycle_changed(before: AccountState, after: AccountState) -> bool:
    return (
        before.status != after.status
        or before.current_period_end != after.current_period_end
        or before.trial_end != after.trial_end
        or before.subscription_id != after.subscription_id
    )
