"""Use cases of the HTTP API: read the projection, cancel, resume, preview, change plan.

A command runs in three steps, and no lock is held across a Stripe call: decide
(a short transaction that applies the ``BillingAccount``'s rules and writes
nothing, so a refusal never reaches Stripe), carry the change out at Stripe
(outside any transaction, with an idempotency key), then apply Stripe's answer in
a short transaction behind the ordering guard and commit the account with the
events to publish. Stripe failing means nothing commits. The read never calls
Stripe.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from billing_domain.auth import Action, authorize
from billing_domain.clock import Clock
from billing_domain.errors import Conflict, RuleViolated
from billing_domain.ordering import AppliedMark
from billing_domain.plan_change import PlanChangeDecision
from billing_domain.plans import PlanChangeEffective, PlanType, parse_plan
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import SubscriptionSnapshot

from subscriptions.commands import (
    CancelSubscription,
    ChangePlan,
    GetSubscription,
    PreviewProration,
    ResumeSubscription,
)
from subscriptions.ports import (
    AccountReader,
    PaymentGateway,
    ProrationPreview,
    ProrationQuotes,
    SubscriptionsUnitOfWork,
)
from subscriptions.publishing import events_to_publish

log = structlog.get_logger("subscriptions.use_cases")

PRORATION_QUOTE_TTL = timedelta(minutes=10)
"""How long a preview's ``proration_date`` may be sent back to change the plan."""


@dataclass(frozen=True, kw_only=True)
class PlanChangeResult:
    account: BillingAccount
    effective: PlanChangeEffective


async def get_subscription(cmd: GetSubscription, reader: AccountReader) -> BillingAccount:
    authorize(cmd.principal, Action.READ_SUBSCRIPTION, tenant_id=cmd.tenant_id)
    return await reader.find(cmd.tenant_id) or BillingAccount.free(cmd.tenant_id)


def _stripe_key(action: str, subscription_id: str, request_key: str) -> str:
    return f"subscriptions.{action}.{subscription_id}.{request_key}"[:255]


async def cancel_subscription(
    cmd: CancelSubscription, uow: SubscriptionsUnitOfWork, gateway: PaymentGateway, clock: Clock
) -> BillingAccount:
    """Cancel at the end of the paid period; a pending downgrade is dropped too."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    now = clock.now()

    def cancel(account: BillingAccount) -> None:
        account.schedule_cancel(cmd.principal, now)

    async with uow:  # decide: the rules refuse before Stripe is called; nothing is written
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        seen = _last_applied(account)
        had_pending = account.pending_plan is not None
        cancel(account)
    subscription_id = _subscription_id(account)
    if had_pending:
        await gateway.release_pending_change(
            subscription_id,
            idempotency_key=_stripe_key("release", subscription_id, cmd.request_key),
        )
    fresh = await gateway.schedule_cancel(
        subscription_id, idempotency_key=_stripe_key("cancel", subscription_id, cmd.request_key)
    )
    account = await _apply_answer(uow, gateway, cmd, cancel, fresh, seen=seen, clock=clock)
    log.info("subscriptions.cancel.scheduled", tenant_id=cmd.tenant_id)
    return account


async def resume_subscription(
    cmd: ResumeSubscription, uow: SubscriptionsUnitOfWork, gateway: PaymentGateway, clock: Clock
) -> BillingAccount:
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)

    def resume(account: BillingAccount) -> None:
        account.resume(cmd.principal)

    async with uow:  # decide; nothing is written
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        seen = _last_applied(account)
        resume(account)
    subscription_id = _subscription_id(account)
    fresh = await gateway.resume(
        subscription_id, idempotency_key=_stripe_key("resume", subscription_id, cmd.request_key)
    )
    account = await _apply_answer(uow, gateway, cmd, resume, fresh, seen=seen, clock=clock)
    log.info("subscriptions.cancel.resumed", tenant_id=cmd.tenant_id)
    return account


async def preview_proration(
    cmd: PreviewProration,
    reader: AccountReader,
    gateway: PaymentGateway,
    clock: Clock,
    quotes: ProrationQuotes,
) -> ProrationPreview:
    """What changing to ``cmd.plan`` would cost, under the same rules as the change itself.

    Its ``proration_date`` (now, whole seconds) is recorded as issued to this tenant
    and plan for ``PRORATION_QUOTE_TTL``: the one date the plan change accepts back.
    """
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    target = parse_plan(cmd.plan)
    account = await reader.find(cmd.tenant_id) or BillingAccount.free(cmd.tenant_id)
    now = clock.now().replace(microsecond=0)
    decision = copy.deepcopy(account).request_plan_change(cmd.principal, target, now)
    preview = await gateway.preview_plan_change(
        _subscription_id(account),
        target,
        proration_date=now,
        prorate=decision.effective is PlanChangeEffective.NOW,
    )
    await quotes.issue(
        tenant_id=cmd.tenant_id,
        plan=target,
        proration_date=preview.proration_date,
        expires_at=now + PRORATION_QUOTE_TTL,
    )
    return preview


async def _refuse_unissued(
    quotes: ProrationQuotes, cmd: ChangePlan, target: PlanType, now: datetime
) -> None:
    """A client may send back only a date a recent preview issued for this tenant and plan."""
    if cmd.proration_date is None:
        return
    if not await quotes.issued(
        tenant_id=cmd.tenant_id, plan=target, proration_date=cmd.proration_date, now=now
    ):
        raise RuleViolated(
            "proration_date must be the one a preview of this plan returned in the last "
            f"{int(PRORATION_QUOTE_TTL.total_seconds() // 60)} minutes (or be left out)",
            code="proration_date_not_issued",
        )


async def change_plan(
    cmd: ChangePlan, uow: SubscriptionsUnitOfWork, gateway: PaymentGateway, clock: Clock
) -> PlanChangeResult:
    """Upgrade now (prorated at the preview's date) or downgrade at the period end."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    target = parse_plan(cmd.plan)
    now = clock.now()

    def change(account: BillingAccount) -> PlanChangeDecision:
        return account.request_plan_change(cmd.principal, target, now)

    async with uow:  # decide: the rules and the quote refuse before Stripe; nothing is written
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        seen = _last_applied(account)
        had_pending = account.pending_plan is not None
        decision = change(account)
        await _refuse_unissued(uow.quotes, cmd, target, now)
    subscription_id = _subscription_id(account)
    if decision.effective is PlanChangeEffective.NOW:
        if had_pending:
            await gateway.release_pending_change(
                subscription_id,
                idempotency_key=_stripe_key("release", subscription_id, cmd.request_key),
            )
        fresh = await gateway.change_plan_now(
            subscription_id,
            target,
            proration_date=cmd.proration_date or now,
            idempotency_key=_stripe_key("upgrade", subscription_id, cmd.request_key),
        )
    else:
        fresh = await gateway.schedule_plan_change(
            subscription_id,
            target,
            effective_at=decision.effective_at,
            idempotency_key=_stripe_key("downgrade", subscription_id, cmd.request_key),
        )
    account = await _apply_answer(uow, gateway, cmd, change, fresh, seen=seen, clock=clock)
    log.info(
        "subscriptions.plan.changed",
        tenant_id=cmd.tenant_id,
        to_plan=target.value,
        effective=decision.effective.value,
    )
    return PlanChangeResult(account=account, effective=decision.effective)


class _Command(Protocol):
    @property
    def tenant_id(self) -> str: ...

    @property
    def causation_id(self) -> str: ...


def _last_applied(account: BillingAccount) -> AppliedMark | None:
    """What the projection last applied to the tenant's subscription, when deciding
    (read before the rules run: a free account has no subscription and is refused by them)."""
    if account.stripe_subscription_id is None:
        return None
    return account.last_applied.get(account.stripe_subscription_id)


async def _apply_answer(
    uow: SubscriptionsUnitOfWork,
    gateway: PaymentGateway,
    cmd: _Command,
    command: Callable[[BillingAccount], object],
    fresh: SubscriptionSnapshot,
    *,
    seen: AppliedMark | None,
    clock: Clock,
) -> BillingAccount:
    """Stripe's answer to a command, applied in a short transaction (no Stripe call holds
    the row lock).

    When nothing was applied to the subscription since the command decided (``seen``),
    the answer is Stripe's newest state: the command is replayed on the row to record its
    events (unless the row already shows it) and the answer taken as authoritative.
    When a Stripe event was applied during the call, which of the two is newer cannot be
    told by time (Stripe's clock, a test clock's, ours): Stripe is read again, outside
    any transaction, and that read is applied instead (when in doubt, re-read).
    """
    async with uow:
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        if account.last_applied.get(fresh.subscription_id) == seen:
            await _take_answer(uow, account, command, fresh, clock, cmd.causation_id)
            return account
    log.info("subscriptions.answer.reread", tenant_id=cmd.tenant_id)
    reread = await gateway.read_subscription(fresh.subscription_id)
    async with uow:
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        await _take_answer(uow, account, command, reread, clock, cmd.causation_id)
    return account


async def _take_answer(
    uow: SubscriptionsUnitOfWork,
    account: BillingAccount,
    command: Callable[[BillingAccount], object],
    answer: SubscriptionSnapshot,
    clock: Clock,
    causation_id: str,
) -> None:
    try:
        command(account)
    except (Conflict, RuleViolated) as refused:
        log.info(
            "subscriptions.answer.already_applied", tenant_id=account.tenant_id, code=refused.code
        )
    take_fresh(account, answer, clock, causation_id)
    await _commit(uow, account, causation_id, clock)


def take_fresh(
    account: BillingAccount, fresh: SubscriptionSnapshot, clock: Clock, causation_id: str
) -> None:
    """Apply what Stripe just answered, and remember when: a Stripe event created
    before this second is older than this answer (``STALE``), one of the same
    second is a tie settled by a re-read. Stripe's ``created`` has whole seconds."""
    read_at = clock.now().replace(microsecond=0)
    account.apply_authoritative(fresh, mark=AppliedMark(created=read_at, event_id=causation_id))


def _subscription_id(account: BillingAccount) -> str:
    # The aggregate's rules already refused accounts without a live subscription.
    assert account.stripe_subscription_id is not None
    return account.stripe_subscription_id


async def _commit(
    uow: SubscriptionsUnitOfWork, account: BillingAccount, causation_id: str, clock: Clock
) -> None:
    await uow.accounts.save(account)
    await uow.outbox.add_all(events_to_publish(account, causation_id=causation_id, clock=clock))
    await uow.commit()
