"""Use cases of trials (architecture section 8.3): convert now (and its preview), an
operator's extension, and resuming a subscription paused at the end of a trial without a
card once a payment method is known.

Same three steps as ``use_cases``: decide in a short transaction that writes nothing
(or, for an extension, only its reservation), call Stripe outside any transaction with
an idempotency key, apply the answer behind the ordering guard.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import structlog
from billing_domain.auth import Action, Principal, authorize
from billing_domain.clock import Clock
from billing_domain.errors import Conflict, NotFound, RuleViolated
from billing_domain.events import SubscriptionTrialExtended, new_event
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.timestamps import to_rfc3339
from billing_domain.trials import TrialExtension, decide_extension

from subscriptions import metrics
from subscriptions.ports import (
    AccountReader,
    PaymentGateway,
    SubscriptionsUnitOfWork,
    TrialEndPreview,
    TrialExtensionRecord,
    TrialExtensions,
    UnitOfWorkFactory,
)
from subscriptions.publishing import SOURCE, events_to_publish
from subscriptions.use_cases import apply_answer as _apply_answer
from subscriptions.use_cases import last_applied_mark as _last_applied
from subscriptions.use_cases import stripe_key as _stripe_key
from subscriptions.use_cases import take_fresh

log = structlog.get_logger("subscriptions.trials")


@dataclass(frozen=True, kw_only=True)
class EndTrial:
    principal: Principal
    tenant_id: str
    request_key: str
    causation_id: str


@dataclass(frozen=True, kw_only=True)
class PreviewTrialEnd:
    principal: Principal
    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class ExtendTrial:
    principal: Principal
    tenant_id: str
    extend_days: int
    reason: str
    causation_id: str


@dataclass(frozen=True, kw_only=True)
class TrialExtended:
    account: BillingAccount
    extension: TrialExtension
    total_extended_days: int


async def preview_trial_end(
    cmd: PreviewTrialEnd, reader: AccountReader, gateway: PaymentGateway
) -> TrialEndPreview:
    """What converting now would charge, under the same rules as converting."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    account = await reader.find(cmd.tenant_id) or BillingAccount.free(cmd.tenant_id)
    subscription_id = copy.deepcopy(account).end_trial_now(cmd.principal)
    return await gateway.preview_trial_end(subscription_id)


async def end_trial_now(
    cmd: EndTrial, uow: SubscriptionsUnitOfWork, gateway: PaymentGateway, clock: Clock
) -> BillingAccount:
    """``trial_end=now``: the first invoice is created and charged at once."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)

    def convert(account: BillingAccount) -> None:
        account.end_trial_now(cmd.principal)

    async with uow:  # decide; nothing is written
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        seen = _last_applied(account)
        subscription_id = account.end_trial_now(cmd.principal)
    fresh = await gateway.end_trial_now(
        subscription_id,
        idempotency_key=_stripe_key("trial_end", subscription_id, cmd.request_key),
    )
    account = await _apply_answer(uow, gateway, cmd, convert, fresh, seen=seen, clock=clock)
    metrics.TRIAL_ACTIONS.labels("converted").inc()
    log.info("subscriptions.trial.converted", tenant_id=cmd.tenant_id, status=account.status)
    return account


async def extend_trial(
    cmd: ExtendTrial,
    uow: SubscriptionsUnitOfWork,
    reader: AccountReader,
    gateway: PaymentGateway,
    clock: Clock,
    *,
    max_extension_days: int,
) -> TrialExtended:
    """An operator moves a tenant's trial end later, without proration; audited, capped."""
    authorize(cmd.principal, Action.OPERATE_TRIALS)
    if await reader.find(cmd.tenant_id) is None:
        raise NotFound(f"no billing account for tenant {cmd.tenant_id!r}", code="unknown_tenant")
    async with uow:  # decide and reserve the days under the account's lock
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        already = await uow.trial_extensions.total_days(cmd.tenant_id)
        extension = decide_extension(
            status=account.status,
            trial_end=account.trial_end,
            extend_days=cmd.extend_days,
            reason=cmd.reason,
            already_extended_days=already,
            max_extension_days=max_extension_days,
        )
        assert account.stripe_subscription_id is not None  # trialing
        subscription_id = account.stripe_subscription_id
        reservation = await uow.trial_extensions.reserve(
            tenant_id=cmd.tenant_id,
            subscription_id=subscription_id,
            operator_sub=cmd.principal.user_id,
            extension=extension,
        )
        await uow.commit()
    try:
        fresh = await gateway.move_trial_end(
            subscription_id,
            extension.new_trial_end,
            idempotency_key=_stripe_key("trial_extend", subscription_id, str(reservation)),
        )
    except Exception:
        await _release(uow, reservation)
        raise
    async with uow:
        account = await uow.accounts.get_for_update(cmd.tenant_id)
        take_fresh(account, fresh, clock, cmd.causation_id)
        await uow.trial_extensions.mark_applied(reservation, clock.now())
        total = await uow.trial_extensions.total_days(cmd.tenant_id)
        await uow.accounts.save(account)
        messages = events_to_publish(account, causation_id=cmd.causation_id, clock=clock)
        messages.append(
            new_event(
                SubscriptionTrialExtended,
                tenant_id=cmd.tenant_id,
                source=SOURCE,
                causation_id=cmd.causation_id,
                clock=clock,
                stripe_subscription_id=subscription_id,
                stripe_customer_id=account.stripe_customer_id or "",
                plan=account.plan,
                previous_trial_end=extension.previous_trial_end,
                trial_end=account.trial_end or extension.new_trial_end,
                extend_days=extension.extend_days,
                total_extended_days=total,
                reason=extension.reason,
                extended_by=cmd.principal.user_id,
            )
        )
        await uow.outbox.add_all(messages)
        await uow.commit()
    metrics.TRIAL_ACTIONS.labels("extended").inc()
    metrics.TRIAL_EXTENSION_DAYS.inc(extension.extend_days)
    log.info(
        "subscriptions.trial.extended",
        tenant_id=cmd.tenant_id,
        extend_days=extension.extend_days,
        total_extended_days=total,
        operator=cmd.principal.user_id,
    )
    return TrialExtended(account=account, extension=extension, total_extended_days=total)


async def _release(uow: SubscriptionsUnitOfWork, reservation: int) -> None:
    async with uow:
        await uow.trial_extensions.release(reservation)
        await uow.commit()


async def recent_extensions(
    principal: Principal, extensions: TrialExtensions, *, tenant_id: str | None, limit: int
) -> list[TrialExtensionRecord]:
    authorize(principal, Action.OPERATE_TRIALS)
    return await extensions.recent(tenant_id=tenant_id, limit=limit)


def awaits_resume(account: BillingAccount) -> bool:
    """Paused at a trial's end without a card, and a card is known now."""
    return (
        account.status is SubscriptionStatus.PAUSED
        and account.has_payment_method
        and account.stripe_subscription_id is not None
    )


async def resume_if_payable(
    tenant_id: str,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    clock: Clock,
    *,
    causation_id: str,
) -> BillingAccount | None:
    """A subscription paused at the end of a trial without a card is resumed at Stripe
    once the projection knows it has a payment method (the setup flow set it); Stripe
    charges the new period and keeps it paused until that invoice is paid."""
    async with uow_factory() as uow:
        account = await uow.accounts.get_for_update(tenant_id)
    subscription_id = account.stripe_subscription_id
    if not awaits_resume(account) or subscription_id is None:
        return None
    # The projection may lag or lead (a paused snapshot sent before an earlier resume can
    # arrive after it): ask Stripe first, and when it refuses, read again.
    fresh = await gateway.read_subscription(subscription_id)
    if fresh.status is SubscriptionStatus.PAUSED:
        try:
            fresh = await gateway.resume_paused(
                subscription_id,
                idempotency_key=_stripe_key("resume_paused", subscription_id, causation_id),
            )
        except (RuleViolated, Conflict):
            log.info("subscriptions.paused.resume_refused", tenant_id=tenant_id)
            fresh = await gateway.read_subscription(subscription_id)
    uow = uow_factory()
    async with uow:
        account = await uow.accounts.get_for_update(tenant_id)
        take_fresh(account, fresh, clock, causation_id)
        await uow.accounts.save(account)
        await uow.outbox.add_all(events_to_publish(account, causation_id=causation_id, clock=clock))
        await uow.commit()
    metrics.TRIAL_ACTIONS.labels("paused_resume_requested").inc()
    log.info("subscriptions.paused.resume_requested", tenant_id=tenant_id, status=account.status)
    return account


def trial_end_body(preview: TrialEndPreview) -> dict[str, object]:
    return {
        "amount_due": preview.amount_due.amount,
        "currency": preview.amount_due.currency,
        "period_end": None if preview.period_end is None else to_rfc3339(preview.period_end),
    }
