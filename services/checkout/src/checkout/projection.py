"""What checkout learns from billing events (docs/events.md).

- ``checkout.completed``: the session record is marked complete; a trial's marks the
  tenant's (and its customer's) one trial as used.
- ``subscription.activated|plan_changed|canceled``: the small projection of each
  tenant's plan behind the 409 "already on this plan". The plan in the event is
  the subscription as it now stands (a downgrade scheduled for the period end
  leaves the current plan in place); a cancellation puts the tenant on free. A
  subscription with a ``trial_end`` marks the tenant's trial as used too, however it
  was started.

Events can arrive out of order: a state older than the stored one (by Stripe's
``created`` when the event carries it, else ``occurred_at``) never overwrites it.
"""

from __future__ import annotations

import structlog
from billing_domain.envelope import IntegrationEvent
from billing_domain.events import (
    CheckoutCompleted,
    SubscriptionActivated,
    SubscriptionCanceled,
    SubscriptionEvent,
    SubscriptionPlanChanged,
)
from billing_domain.plans import PlanType
from billing_platform.messaging.billing_events import ConsumedEvent

from checkout.ports import TenantPlan, UnitOfWork

log = structlog.get_logger("checkout.projection")

CONSUMED_TYPES: tuple[type[IntegrationEvent], ...] = (
    CheckoutCompleted,
    SubscriptionActivated,
    SubscriptionPlanChanged,
    SubscriptionCanceled,
)


async def project_billing_event(cmd: ConsumedEvent, uow: UnitOfWork) -> bool:
    """Apply one consumed message once (inbox, same transaction); False for a copy."""
    async with uow:
        if not await uow.inbox.record(cmd.message_id, cmd.routing_key):
            log.info("checkout.event.duplicate_message", message_id=cmd.message_id)
            return False
        await apply_event(uow, cmd.event)
        await uow.commit()
    return True


async def apply_event(uow: UnitOfWork, event: IntegrationEvent) -> None:
    """Apply one consumed event inside the caller's transaction (the caller commits)."""
    if isinstance(event, CheckoutCompleted):
        await record_checkout_completed(uow, event)
    elif isinstance(event, SubscriptionEvent) and isinstance(event, CONSUMED_TYPES):
        await project_tenant_plan(uow, event)
        if event.trial_end is not None:
            await _record_trial(uow, event, f"subscription {event.stripe_subscription_id}")
    else:
        log.info("checkout.event.ignored", type=event.type)


async def record_checkout_completed(uow: UnitOfWork, event: CheckoutCompleted) -> None:
    known = await uow.sessions.mark_completed(
        event.checkout_session_id,
        payment_status=event.payment_status,
        completed_at=event.stripe_created or event.occurred_at,
    )
    if not known:
        log.warning("checkout.session.unknown", session_id=event.checkout_session_id)
    if event.trial:
        await _record_trial(uow, event, f"checkout {event.checkout_session_id}")


async def _record_trial(
    uow: UnitOfWork, event: CheckoutCompleted | SubscriptionEvent, evidence: str
) -> None:
    await uow.trials.record(
        tenant_id=event.tenant_id,
        customer_id=event.stripe_customer_id,
        evidence=evidence,
        used_at=event.stripe_created or event.occurred_at,
    )


async def project_tenant_plan(uow: UnitOfWork, event: SubscriptionEvent) -> None:
    plan = PlanType.FREE if isinstance(event, SubscriptionCanceled) else event.plan
    stored = await uow.tenant_plans.save(
        TenantPlan(
            tenant_id=event.tenant_id,
            plan=plan,
            status=event.status.value,
            as_of=event.stripe_created or event.occurred_at,
        )
    )
    if not stored:
        log.info("checkout.tenant_plan.stale_event", type=event.type, plan=plan.value)
