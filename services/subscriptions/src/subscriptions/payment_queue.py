"""Use cases of the failed-payment queue (operators, ``billing:admin``).

The listing reads the projection only. ``retry_payment`` audits the action as
pending in a short transaction, asks Stripe to charge the failed invoice with the
default method outside any transaction (idempotency key), then writes Stripe's
immediate answer to the audit: whatever it says, the tenant's row changes only
when the webhook (``invoice.paid`` / ``invoice.payment_failed``) arrives.
``remind`` publishes ``payment.reminder_requested`` through the outbox in the
transaction that audits it. A refused action (nothing due) is audited too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import structlog
from billing_domain.auth import Action, authorize
from billing_domain.clock import Clock
from billing_domain.envelope import new_event
from billing_domain.errors import Conflict, GatewayUnavailable, NotFound
from billing_domain.notification_events import NotificationSent
from billing_domain.operator_events import PaymentReminderRequested
from billing_domain.payment_recovery import (
    ActionOutcome,
    OperatorAction,
    invoice_due,
    is_in_queue,
)
from billing_domain.subscription import BillingAccount

from subscriptions import metrics
from subscriptions.commands import ListActions, ListPastDue, OperatorTenantAction
from subscriptions.ports import (
    AccountReader,
    ActionRecord,
    LastEmail,
    PastDueQuery,
    PastDueRow,
    PaymentGateway,
    PaymentQueueReader,
    SubscriptionsUnitOfWork,
)
from subscriptions.publishing import SOURCE

log = structlog.get_logger("subscriptions.payment_queue")

UowFactory = Callable[[], SubscriptionsUnitOfWork]


async def list_past_due(cmd: ListPastDue, queue: PaymentQueueReader) -> list[PastDueRow]:
    authorize(cmd.principal, Action.OPERATE_PAYMENTS)
    return await queue.past_due(
        PastDueQuery(
            statuses=cmd.statuses,
            currency=cmd.currency,
            after=cmd.after,
            limit=cmd.limit,
            tenant_id=cmd.tenant_id,
        )
    )


async def list_actions(
    cmd: ListActions, reader: AccountReader, queue: PaymentQueueReader
) -> list[ActionRecord]:
    authorize(cmd.principal, Action.OPERATE_PAYMENTS)
    await _known(reader, cmd.tenant_id)
    return await queue.actions(cmd.tenant_id, before=cmd.before, limit=cmd.limit)


async def retry_payment(
    cmd: OperatorTenantAction,
    reader: AccountReader,
    uow_factory: UowFactory,
    gateway: PaymentGateway,
    clock: Clock,
) -> ActionRecord:
    """Ask Stripe to charge the tenant's failed invoice now; the result comes by webhook."""
    authorize(cmd.principal, Action.OPERATE_PAYMENTS)
    account = await _known(reader, cmd.tenant_id)
    action = OperatorAction.RETRY_PAYMENT
    try:
        due = invoice_due(account)
    except Conflict as refused:
        await _audit(uow_factory, cmd, action, ActionOutcome.NOTHING_DUE, None, clock, refused)
        raise
    pending = await _audit(uow_factory, cmd, action, ActionOutcome.PENDING, due.invoice_id, clock)
    key = f"subscriptions.retry_payment.{due.invoice_id}.{cmd.request_key}"[:255]
    try:
        answer = await gateway.pay_invoice(due.invoice_id, idempotency_key=key)
    except GatewayUnavailable as exc:
        await _settle(uow_factory, pending, ActionOutcome.STRIPE_UNAVAILABLE, exc.message, clock)
        raise
    except Conflict as exc:
        await _settle(uow_factory, pending, ActionOutcome.STRIPE_REFUSED, exc.message, clock)
        raise
    settled = await _settle(uow_factory, pending, answer.attempt.outcome, None, clock)
    log.info(
        "subscriptions.retry_payment.requested",
        tenant_id=cmd.tenant_id,
        stripe_invoice_id=due.invoice_id,
        operator=cmd.principal.user_id,
        stripe_answer=answer.attempt.value,
    )
    return settled


async def remind(
    cmd: OperatorTenantAction, reader: AccountReader, uow_factory: UowFactory, clock: Clock
) -> ActionRecord:
    """Publish ``payment.reminder_requested`` for a tenant in the queue."""
    authorize(cmd.principal, Action.OPERATE_PAYMENTS)
    account = await _known(reader, cmd.tenant_id)
    action = OperatorAction.REMIND
    if not is_in_queue(account):
        refused = Conflict(
            f"tenant {cmd.tenant_id} is not past due ({account.status.value})",
            code="nothing_due",
        )
        await _audit(uow_factory, cmd, action, ActionOutcome.NOTHING_DUE, None, clock, refused)
        raise refused
    failure = account.payment_failure
    invoice_id = None if failure is None else failure.invoice_id
    event = new_event(
        PaymentReminderRequested,
        tenant_id=cmd.tenant_id,
        source=SOURCE,
        causation_id=cmd.causation_id,
        clock=clock,
        stripe_invoice_id=invoice_id,
        requested_by=cmd.principal.user_id,
    )
    uow = uow_factory()
    async with uow:
        record = await _record(uow, cmd, action, ActionOutcome.REQUESTED, invoice_id, clock)
        await uow.outbox.add_all([event])
        await uow.commit()
    log.info(
        "subscriptions.remind.requested",
        tenant_id=cmd.tenant_id,
        stripe_invoice_id=invoice_id,
        operator=cmd.principal.user_id,
        message_id=str(event.id),
    )
    return record


def last_email_of(event: NotificationSent) -> LastEmail:
    """The email a ``notification.sent`` reports, as the queue shows it."""
    return LastEmail(
        kind=event.kind,
        subject_id=event.subject_id or None,
        to=event.to or None,
        status=event.status,
        sent_at=event.sent_at,
    )


async def _known(reader: AccountReader, tenant_id: str) -> BillingAccount:
    account = await reader.find(tenant_id)
    if account is None:
        raise NotFound(f"no tenant {tenant_id!r} is known to billing", code="unknown_tenant")
    return account


async def _record(
    uow: SubscriptionsUnitOfWork,
    cmd: OperatorTenantAction,
    action: OperatorAction,
    outcome: ActionOutcome,
    invoice_id: str | None,
    clock: Clock,
    detail: str | None = None,
) -> ActionRecord:
    now = clock.now()
    if outcome is not ActionOutcome.PENDING:
        metrics.OPERATOR_ACTIONS.labels(action.value, outcome.value).inc()
    action_id = await uow.actions.record(
        tenant_id=cmd.tenant_id,
        action=action,
        operator_sub=cmd.principal.user_id,
        requested_at=now,
        outcome=outcome,
        stripe_invoice_id=invoice_id,
        request_id=cmd.causation_id,
        detail=detail,
        reason=cmd.reason,
    )
    return ActionRecord(
        id=action_id,
        tenant_id=cmd.tenant_id,
        action=action,
        operator_sub=cmd.principal.user_id,
        requested_at=now,
        outcome=outcome.value,
        detail=detail,
        stripe_invoice_id=invoice_id,
        settled_at=None if outcome is ActionOutcome.PENDING else now,
        reason=cmd.reason,
    )


async def _audit(
    uow_factory: UowFactory,
    cmd: OperatorTenantAction,
    action: OperatorAction,
    outcome: ActionOutcome,
    invoice_id: str | None,
    clock: Clock,
    refused: Conflict | None = None,
) -> ActionRecord:
    uow = uow_factory()
    async with uow:
        detail = None if refused is None else refused.message
        record = await _record(uow, cmd, action, outcome, invoice_id, clock, detail)
        await uow.commit()
    return record


async def _settle(
    uow_factory: UowFactory,
    pending: ActionRecord,
    outcome: ActionOutcome,
    detail: str | None,
    clock: Clock,
) -> ActionRecord:
    now = clock.now()
    metrics.OPERATOR_ACTIONS.labels(pending.action.value, outcome.value).inc()
    uow = uow_factory()
    async with uow:
        await uow.actions.settle(pending.id, outcome=outcome, detail=detail, settled_at=now)
        await uow.commit()
    return replace(pending, outcome=outcome.value, detail=detail, settled_at=now)
