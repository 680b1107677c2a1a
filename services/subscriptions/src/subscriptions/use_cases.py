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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from billing_domain.auth import Action, authorize
from billing_domain.clock import Clock
from billing_domain.errors import Conflict, RuleViolated
from billing_domain.ordering import AppliedMark
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot

from subscriptions.commands import (
    CancelSubscription,
    GetSubscription,
    ResumeSubscription,
)
from subscriptions.ports import (
    AccountReader,
    PaymentGateway,
    SubscriptionsUnitOfWork,
)
from subscriptions.publishing import events_to_publish

log = structlog.get_logger("subscriptions.use_cases")


@dataclass(frozen=True, kw_only=True)
class CancelResult:
    account: BillingAccount
    dropped_pending: PendingPlanChange | None
    """The scheduled plan change the cancellation withdrew (it is not kept), if any."""


async def get_subscription(cmd: GetSubscription, reader: AccountReader) -> BillingAccount:
    authorize(cmd.principal, Action.READ_SUBSCRIPTION, tenant_id=cmd.tenant_id)
    return await reader.find(cmd.tenant_id) or BillingAccount.free(cmd.tenant_id)


def stripe_key(action: str, subscription_id: str, request_key: str) -> str:
    return f"subscriptions.{action}.{subscription_id}.{request_key}"[:255]


async def cancel_subscription(
    cmd: CancelSubscription, uow: SubscriptionsUnitOfWork, gateway: PaymentGateway, clock: Clock
) -> CancelResult:
    """Cancel at the end of the paid period; a pending downgrade is dropped too (and
    said so: ``dropped_pending``, so the caller can tell the owner)."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    now = clock.now()

    def cancel(account: BillingAccount) -> None:
        account.schedule_cancel(cmd.principal, now)

    async with uow:  # decide: the rules refuse before Stripe is called; nothing is written
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        seen = last_applied_mark(account)
        dropped = account.pending_plan
        had_pending = dropped is not None
        cancel(account)
    subscription_id = live_subscription_id(account)
    if had_pending:
        await gateway.release_pending_change(
            subscription_id,
            idempotency_key=stripe_key("release", subscription_id, cmd.request_key),
        )
    fresh = await gateway.schedule_cancel(
        subscription_id, idempotency_key=stripe_key("cancel", subscription_id, cmd.request_key)
    )
    account = await apply_answer(uow, gateway, cmd, cancel, fresh, seen=seen, clock=clock)
    log.info(
        "subscriptions.cancel.scheduled",
        tenant_id=cmd.tenant_id,
        dropped_pending=None if dropped is None else dropped.plan.value,
    )
    return CancelResult(account=account, dropped_pending=dropped)


async def resume_subscription(
    cmd: ResumeSubscription, uow: SubscriptionsUnitOfWork, gateway: PaymentGateway, clock: Clock
) -> BillingAccount:
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)

    def resume(account: BillingAccount) -> None:
        account.resume(cmd.principal)

    async with uow:  # decide; nothing is written
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        seen = last_applied_mark(account)
        resume(account)
    subscription_id = live_subscription_id(account)
    fresh = await gateway.resume(
        subscription_id, idempotency_key=stripe_key("resume", subscription_id, cmd.request_key)
    )
    account = await apply_answer(uow, gateway, cmd, resume, fresh, seen=seen, clock=clock)
    log.info("subscriptions.cancel.resumed", tenant_id=cmd.tenant_id)
    return account


class CommandOrigin(Protocol):
    @property
    def tenant_id(self) -> str: ...

    @property
    def causation_id(self) -> str: ...


def last_applied_mark(account: BillingAccount) -> AppliedMark | None:
    """What the projection last applied to the tenant's subscription, when deciding
    (read before the rules run: a free account has no subscription and is refused by them)."""
    if account.stripe_subscription_id is None:
        return None
    return account.last_applied.get(account.stripe_subscription_id)


async def apply_answer(
    uow: SubscriptionsUnitOfWork,
    gateway: PaymentGateway,
    cmd: CommandOrigin,
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


def live_subscription_id(account: BillingAccount) -> str:
    # The aggregate's rules already refused accounts without a live subscription.
    assert account.stripe_subscription_id is not None
    return account.stripe_subscription_id


async def _commit(
    uow: SubscriptionsUnitOfWork, account: BillingAccount, causation_id: str, clock: Clock
) -> None:
    await uow.accounts.save(account)
    await uow.outbox.add_all(events_to_publish(account, causation_id=causation_id, clock=clock))
    await uow.commit()
