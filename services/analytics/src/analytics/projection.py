"""What analytics learns from billing events (docs/events.md, docs/metrics.md).

- ``subscription.updated`` (webhooks: the subscription as Stripe says it now stands,
  with its price): the tenant's MRR and the movement it makes, trial starts and their
  outcome, cancellations scheduled (``ledger.fold_subscription``).
- ``invoice.payment_failed`` / ``invoice.paid`` / ``invoice.voided`` /
  ``invoice.marked_uncollectible``: payment failures, their recovery and its time.
- ``checkout.session_created`` / ``checkout.completed``: checkout conversion.
- ``portal.session_created``: portal usage.

Every fact is dated by the Stripe event's ``created`` (else the message's
``occurred_at``), never by arrival: a late event lands in its own day. A message is
applied once (inbox, same transaction), and every fact has a natural key besides, so a
replay with a new message id changes nothing either.
"""

from __future__ import annotations

import structlog
from billing_domain.envelope import IntegrationEvent
from billing_domain.events import (
    CheckoutCompleted,
    CheckoutSessionCreated,
    InvoiceMarkedUncollectible,
    InvoicePaid,
    InvoicePaymentFailed,
    InvoiceVoided,
    StripeDerivedEvent,
    SubscriptionUpdated,
)
from billing_domain.portal_events import PortalSessionCreated
from billing_platform.messaging.billing_events import ConsumedEvent

from analytics import metrics
from analytics.ledger import fold_subscription
from analytics.ports import Activity, ActivityKind, PaymentFailure, UnitOfWork

log = structlog.get_logger("analytics.projection")

CONSUMED_TYPES: tuple[type[IntegrationEvent], ...] = (
    SubscriptionUpdated,
    InvoicePaymentFailed,
    InvoicePaid,
    InvoiceVoided,
    InvoiceMarkedUncollectible,
    CheckoutSessionCreated,
    CheckoutCompleted,
    PortalSessionCreated,
)


async def project_billing_event(cmd: ConsumedEvent, uow: UnitOfWork) -> bool:
    """Apply one consumed message once (inbox, same transaction); False for a copy."""
    async with uow:
        if not await uow.inbox.record(cmd.message_id, cmd.routing_key):
            log.info("analytics.event.duplicate_message", message_id=cmd.message_id)
            return False
        await apply_event(uow, cmd.event)
        await uow.commit()
    return True


async def apply_event(uow: UnitOfWork, event: IntegrationEvent) -> None:
    """Apply one consumed event inside the caller's transaction (the caller commits)."""
    at = event.stripe_created if isinstance(event, StripeDerivedEvent) else None
    at = at or event.occurred_at
    tenant = event.tenant_id
    ledger = uow.ledger
    if isinstance(event, SubscriptionUpdated):
        await apply_subscription(uow, event)
    elif isinstance(event, InvoicePaymentFailed):
        await ledger.add_activity(
            Activity(
                kind=ActivityKind.PAYMENT_ATTEMPT_FAILED,
                key=f"{event.stripe_invoice_id}/{event.attempt_count}",
                tenant_id=tenant,
                occurred_at=at,
                currency=event.currency,
                amount=event.amount_due,
            )
        )
        first = await ledger.payment_failed(
            PaymentFailure(
                invoice_id=event.stripe_invoice_id,
                tenant_id=tenant,
                currency=event.currency,
                amount_due=event.amount_due,
                failed_at=at,
            )
        )
        if first:
            metrics.PAYMENT_FAILURES.labels(event.currency).inc()
    elif isinstance(event, InvoicePaid):
        await ledger.add_activity(
            Activity(
                kind=ActivityKind.INVOICE_PAID,
                key=event.stripe_invoice_id,
                tenant_id=tenant,
                occurred_at=at,
                currency=event.currency,
                amount=event.amount_paid,
            )
        )
        if await ledger.payment_recovered(event.stripe_invoice_id, at=at, amount=event.amount_paid):
            log.info("analytics.payment.recovered", stripe_invoice_id=event.stripe_invoice_id)
    elif isinstance(event, InvoiceVoided | InvoiceMarkedUncollectible):
        await ledger.payment_closed(event.stripe_invoice_id, at=at)
    elif isinstance(event, CheckoutSessionCreated):
        await ledger.add_activity(
            Activity(
                kind=ActivityKind.CHECKOUT_CREATED,
                key=event.checkout_session_id,
                tenant_id=tenant,
                occurred_at=at,
            )
        )
    elif isinstance(event, CheckoutCompleted):
        await ledger.add_activity(
            Activity(
                kind=ActivityKind.CHECKOUT_COMPLETED,
                key=event.checkout_session_id,
                tenant_id=tenant,
                occurred_at=at,
                currency=event.currency,
                amount=event.amount,
            )
        )
    elif isinstance(event, PortalSessionCreated):
        await ledger.add_activity(
            Activity(
                kind=ActivityKind.PORTAL_SESSION,
                key=str(event.id),
                tenant_id=tenant,
                occurred_at=at,
            )
        )
    else:
        log.info("analytics.event.ignored", type=event.type)


async def apply_subscription(uow: UnitOfWork, event: SubscriptionUpdated) -> None:
    state = await uow.ledger.state(event.tenant_id)
    fold = fold_subscription(state, event)
    if fold.state is None:
        log.info("analytics.subscription.stale_event", stripe_event_id=event.causation_id)
        return
    await uow.ledger.save_state(fold.state)
    await uow.ledger.add_movements(fold.movements)
    for activity in fold.activity:
        await uow.ledger.add_activity(activity)
    for movement in fold.movements:
        log.info(
            "analytics.mrr.moved",
            kind=movement.kind.value,
            currency=movement.currency,
            mrr_before=movement.mrr_before,
            mrr_after=movement.mrr_after,
            stripe_event_id=event.causation_id,
        )
