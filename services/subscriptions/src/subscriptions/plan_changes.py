"""Use cases of a plan change: the preview, the change, and undoing a scheduled one.

A change names a plan, optionally an interval (``month`` | ``year``; default: the
subscription's) and ``when`` (``now`` | ``period_end``; default: upgrades now,
downgrades at the period end). The preview answers for the same choice: a change now is
prorated at Stripe's now for the subscription (its test clock's time when it lives on
one, never our wall clock), a change at the period end previews the next invoice at the
new price. The date a preview used is issued to the tenant for that plan and interval
(``ProrationQuotes``): the one date the change accepts back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from billing_domain.auth import Action, authorize
from billing_domain.clock import Clock
from billing_domain.errors import RuleViolated
from billing_domain.plan_change import PlanChangeDecision
from billing_domain.plans import (
    BillingInterval,
    PlanChangeEffective,
    PlanType,
    parse_interval,
    parse_plan,
)
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange

from subscriptions.commands import ChangePlan, PreviewProration, WithdrawPendingChange
from subscriptions.ports import (
    AccountReader,
    PaymentGateway,
    ProrationPreview,
    ProrationQuotes,
    SubscriptionsUnitOfWork,
)
from subscriptions.use_cases import (
    apply_answer,
    last_applied_mark,
    live_subscription_id,
    stripe_key,
)

log = structlog.get_logger("subscriptions.plan_changes")

PRORATION_QUOTE_TTL = timedelta(minutes=10)
"""How long a preview's ``proration_date`` may be sent back to change the plan."""


@dataclass(frozen=True, kw_only=True)
class PlanChangeResult:
    account: BillingAccount
    effective: PlanChangeEffective
    effective_at: datetime
    interval: BillingInterval


@dataclass(frozen=True, kw_only=True)
class PreviewResult:
    preview: ProrationPreview
    decision: PlanChangeDecision


def parse_when(value: str | None) -> PlanChangeEffective | None:
    if value is None:
        return None
    try:
        return PlanChangeEffective(value.strip().lower())
    except (ValueError, AttributeError):
        raise RuleViolated(
            f"unknown when {value!r}; expected now or period_end", code="unknown_when"
        ) from None


def _choice(
    plan: str, interval: str | None, when: str | None
) -> tuple[PlanType, BillingInterval | None, PlanChangeEffective | None]:
    return (
        parse_plan(plan),
        None if interval is None else parse_interval(interval),
        parse_when(when),
    )


async def preview_proration(
    cmd: PreviewProration,
    reader: AccountReader,
    gateway: PaymentGateway,
    clock: Clock,
    quotes: ProrationQuotes,
) -> PreviewResult:
    """What the change would cost, under the same rules as the change itself."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    target, interval, when = _choice(cmd.plan, cmd.interval, cmd.when)
    account = await reader.find(cmd.tenant_id) or BillingAccount.free(cmd.tenant_id)
    now = clock.now().replace(microsecond=0)
    decision = copy.deepcopy(account).request_plan_change(
        cmd.principal, target, now, interval=interval, when=when
    )
    preview = await gateway.preview_plan_change(
        live_subscription_id(account),
        target,
        interval=decision.to_interval,
        now=now,
        prorate=decision.prorate,
    )
    await quotes.issue(
        tenant_id=cmd.tenant_id,
        plan=target,
        interval=decision.to_interval,
        proration_date=preview.proration_date,
        expires_at=now + PRORATION_QUOTE_TTL,
        now=now,
    )
    return PreviewResult(preview=preview, decision=decision)


async def _refuse_unissued(
    quotes: ProrationQuotes,
    cmd: ChangePlan,
    target: PlanType,
    interval: BillingInterval,
    now: datetime,
) -> None:
    """A client may send back only a date a recent preview issued for this tenant, plan
    and interval."""
    if cmd.proration_date is None:
        return
    issued = await quotes.issued(
        tenant_id=cmd.tenant_id,
        plan=target,
        interval=interval,
        proration_date=cmd.proration_date,
        now=now,
    )
    if not issued:
        raise RuleViolated(
            "proration_date must be the one a preview of this plan and interval returned in "
            f"the last {int(PRORATION_QUOTE_TTL.total_seconds() // 60)} minutes (or be left out)",
            code="proration_date_not_issued",
        )


async def change_plan(
    cmd: ChangePlan, uow: SubscriptionsUnitOfWork, gateway: PaymentGateway, clock: Clock
) -> PlanChangeResult:
    """Change now (prorated at the preview's date, else at Stripe's now) or at the period
    end (a subscription schedule)."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    target, interval, when = _choice(cmd.plan, cmd.interval, cmd.when)
    now = clock.now()

    def change(account: BillingAccount) -> PlanChangeDecision:
        return account.request_plan_change(cmd.principal, target, now, interval=interval, when=when)

    async with uow:  # decide: the rules and the quote refuse before Stripe; nothing is written
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        seen = last_applied_mark(account)
        had_pending = account.pending_plan is not None
        decision = change(account)
        await _refuse_unissued(uow.quotes, cmd, target, decision.to_interval, now)
    subscription_id = live_subscription_id(account)
    if decision.effective is PlanChangeEffective.NOW:
        if had_pending:
            await gateway.release_pending_change(
                subscription_id,
                idempotency_key=stripe_key("release", subscription_id, cmd.request_key),
            )
        fresh = await gateway.change_plan_now(
            subscription_id,
            target,
            interval=decision.to_interval,
            proration_date=cmd.proration_date,
            idempotency_key=stripe_key("upgrade", subscription_id, cmd.request_key),
        )
    else:
        fresh = await gateway.schedule_plan_change(
            subscription_id,
            target,
            interval=decision.to_interval,
            effective_at=decision.effective_at,
            idempotency_key=stripe_key("downgrade", subscription_id, cmd.request_key),
        )
    account = await apply_answer(uow, gateway, cmd, change, fresh, seen=seen, clock=clock)
    log.info(
        "subscriptions.plan.changed",
        tenant_id=cmd.tenant_id,
        to_plan=target.value,
        interval=decision.to_interval.value,
        effective=decision.effective.value,
    )
    return PlanChangeResult(
        account=account,
        effective=decision.effective,
        effective_at=decision.effective_at,
        interval=decision.to_interval,
    )


async def withdraw_pending_change(
    cmd: WithdrawPendingChange,
    uow: SubscriptionsUnitOfWork,
    gateway: PaymentGateway,
    clock: Clock,
) -> tuple[BillingAccount, PendingPlanChange]:
    """Undo a scheduled change (release the subscription schedule): the tenant keeps its
    plan and price. 409 ``no_pending_change`` when nothing is scheduled."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)

    def withdraw(account: BillingAccount) -> PendingPlanChange:
        return account.withdraw_pending_change(cmd.principal)

    async with uow:  # decide; nothing is written
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        seen = last_applied_mark(account)
        withdrawn = withdraw(account)
    subscription_id = live_subscription_id(account)
    await gateway.release_pending_change(
        subscription_id, idempotency_key=stripe_key("release", subscription_id, cmd.request_key)
    )
    fresh = await gateway.read_subscription(subscription_id)
    account = await apply_answer(uow, gateway, cmd, withdraw, fresh, seen=seen, clock=clock)
    log.info(
        "subscriptions.pending_change.withdrawn",
        tenant_id=cmd.tenant_id,
        plan=withdrawn.plan.value,
        interval=withdrawn.interval.value,
    )
    return account, withdrawn
