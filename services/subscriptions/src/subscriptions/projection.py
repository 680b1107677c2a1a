"""Folding billing events into the tenant's projection (consumer of ``billing.events``).

Each message is applied once (inbox, same transaction), in whatever order it
arrives: the aggregate's ordering guard keeps the newest state per Stripe
object, a tie is settled by re-reading the subscription through Stripe, and
the tenant-level events this service owns are published only when the
projection really changed.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import structlog
from billing_domain import events
from billing_domain.clock import Clock
from billing_domain.customer_events import CustomerUpdated
from billing_domain.errors import GatewayUnavailable
from billing_domain.notification_events import NotificationSent
from billing_domain.ordering import AppliedMark, ApplyOutcome
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import SubscriptionSnapshot

from subscriptions.commands import ProjectBillingEvent
from subscriptions.payment_queue import last_email_of
from subscriptions.ports import PaymentGateway, SubscriptionsUnitOfWork
from subscriptions.publishing import events_to_publish
from subscriptions.self_service.projection import (
    ONLY_SELF_SERVICE,
    Folded,
    project_self_service,
)

log = structlog.get_logger("subscriptions.projection")


class Projected(StrEnum):
    """What became of one message."""

    APPLIED = "applied"
    DUPLICATE_MESSAGE = "duplicate_message"
    DUPLICATE = "duplicate"
    STALE = "stale"
    SUPERSEDED = "superseded"
    REREAD = "reread"
    """A tie with the last applied event, settled by re-reading from Stripe."""
    IGNORED = "ignored"


async def project_billing_event(
    cmd: ProjectBillingEvent,
    uow: SubscriptionsUnitOfWork,
    gateway: PaymentGateway,
    clock: Clock,
    *,
    projected: Callable[[BillingAccount], None] | None = None,
) -> Projected:
    """Fold one billing event into the tenant's account; ``projected`` is given the
    account as committed, when the event went through it."""
    event = cmd.event
    bound = log.bind(
        tenant_id=event.tenant_id,
        message_id=cmd.message_id,
        event_type=event.type,
        stripe_event_id=event.causation_id,
    )
    async with uow:
        if not await uow.inbox.record(cmd.message_id, cmd.routing_key):
            bound.info("subscriptions.event.duplicate_message")
            return Projected.DUPLICATE_MESSAGE
        if isinstance(event, NotificationSent):  # the failed-payment queue's "last email"
            await uow.last_emails.record(
                event.tenant_id, last_email_of(event), message_id=cmd.message_id
            )
            await uow.commit()
            bound.info("subscriptions.event.projected", result=Projected.APPLIED.value)
            return Projected.APPLIED
        folded = await project_self_service(event, uow.self_service)
        if isinstance(event, ONLY_SELF_SERVICE):  # cards and invoice documents only
            await _note_customer_default(uow, event)
            await uow.commit()
            bound.info("subscriptions.event.projected", result=folded.value)
            return Projected.APPLIED if folded is Folded.APPLIED else Projected.IGNORED
        account = await uow.accounts.get_for_update(event.tenant_id)
        result = await _apply(account, event, gateway)
        mark = _mark(event)
        await uow.accounts.save(account)
        if projected is not None:
            projected(account)
        await uow.outbox.add_all(
            events_to_publish(
                account,
                causation_id=event.causation_id,
                clock=clock,
                stripe_created=None if mark is None else mark.created,
            )
        )
        await uow.commit()
    bound.info("subscriptions.event.projected", result=result.value)
    return result


async def _note_customer_default(
    uow: SubscriptionsUnitOfWork, event: events.IntegrationEvent
) -> None:
    """A customer with a default payment method can be charged (``can_charge``): the
    trial's banner goes, and a subscription paused for the lack of one is resumed by the
    consumer (``trials.resume_if_payable``). A default removed says nothing of the
    subscription's own, so it changes nothing here."""
    if not isinstance(event, CustomerUpdated) or not event.default_payment_method_id:
        return
    account = await uow.accounts.get_for_update(event.tenant_id)
    if account.stripe_customer_id not in (None, event.stripe_customer_id):
        return
    if account.stripe_subscription_id is None or account.has_payment_method:
        return
    account.has_payment_method = True
    await uow.accounts.save(account)


async def _apply(
    account: BillingAccount, event: events.IntegrationEvent, gateway: PaymentGateway
) -> Projected:
    match event:
        case events.SubscriptionUpdated() | events.SubscriptionTrialWillEnd():
            return await _apply_subscription(account, event, gateway)
        case events.CheckoutCompleted():
            return await _apply_checkout(account, event, gateway)
        case events.InvoicePaymentFailed():
            if _about_another_subscription(account, event.stripe_subscription_id):
                return Projected.IGNORED
            outcome = account.record_payment_failed(
                event.payment_failure(), mark=_mark(event), object_id=event.stripe_invoice_id
            )
            return _projected(outcome)
        case events.InvoicePaymentActionRequired():
            if _about_another_subscription(account, event.stripe_subscription_id):
                return Projected.IGNORED
            mark = _mark(event)
            outcome = account.record_payment_action_required(
                event.payment_failure(), at=None if mark is None else mark.created
            )
            return _projected(outcome)
        case events.InvoicePaid():
            if _about_another_subscription(account, event.stripe_subscription_id):
                return Projected.IGNORED
            outcome = account.record_invoice_paid(
                invoice_id=event.stripe_invoice_id,
                amount_paid=event.money_paid,
                mark=_mark(event),
            )
            return _projected(outcome)
        case events.InvoiceVoided() | events.InvoiceMarkedUncollectible():
            if _about_another_subscription(account, event.stripe_subscription_id):
                return Projected.IGNORED
            outcome = account.record_invoice_closed_unpaid(
                invoice_id=event.stripe_invoice_id,
                uncollectible=isinstance(event, events.InvoiceMarkedUncollectible),
                mark=_mark(event),
            )
            return _projected(outcome)
    return Projected.IGNORED


def _projected(outcome: ApplyOutcome) -> Projected:
    """An invoice event's outcome; a tie it does not win changes nothing."""
    return Projected.IGNORED if outcome is ApplyOutcome.TIE else Projected(outcome.value)


def _mark(event: events.IntegrationEvent) -> AppliedMark | None:
    if not isinstance(event, events.StripeDerivedEvent):
        return None
    return event.applied_mark()


async def _apply_subscription(
    account: BillingAccount, event: events.SubscriptionEvent, gateway: PaymentGateway
) -> Projected:
    snapshot = event.snapshot()
    mark = event.applied_mark() or AppliedMark(
        created=event.occurred_at, event_id=event.causation_id
    )
    outcome = account.apply_stripe_snapshot(snapshot, mark)
    if outcome is not ApplyOutcome.TIE:
        return _projected(outcome)
    if snapshot.agrees_with(account.snapshot()):  # the two agree: nothing to settle
        account.apply_authoritative(snapshot, mark=mark)
        return Projected.DUPLICATE
    fresh = await gateway.read_subscription(snapshot.subscription_id)
    account.apply_authoritative(fresh, mark=mark)
    return Projected.REREAD


async def _apply_checkout(
    account: BillingAccount, event: events.CheckoutCompleted, gateway: PaymentGateway
) -> Projected:
    """A paid checkout may arrive before any subscription event: provision from Stripe."""
    if account.stripe_customer_id is None:
        account.link_customer(event.stripe_customer_id)
    subscription_id = event.stripe_subscription_id
    if subscription_id is None or account.stripe_subscription_id == subscription_id:
        return Projected.DUPLICATE
    mark = event.applied_mark()
    try:
        fresh = await gateway.read_subscription(subscription_id)
    except GatewayUnavailable:
        # Stripe is down: what the paid checkout says is enough to give access now;
        # the subscription's own events (or a reconcile) bring the details.
        log.warning("subscriptions.checkout.provisional", tenant_id=account.tenant_id)
        provisional = SubscriptionSnapshot(
            subscription_id=subscription_id,
            customer_id=event.stripe_customer_id,
            plan=event.plan,
            status=SubscriptionStatus.TRIALING if event.trial else SubscriptionStatus.ACTIVE,
        )
        outcome = account.apply_authoritative(provisional)
        return _projected(outcome)
    outcome = account.apply_authoritative(fresh, mark=mark, object_id=subscription_id)
    return _projected(outcome)


def _about_another_subscription(account: BillingAccount, subscription_id: str | None) -> bool:
    """An invoice of a subscription other than the tenant's live one changes nothing."""
    current = account.stripe_subscription_id
    return (
        subscription_id is not None
        and current is not None
        and current != subscription_id
        and not account.status.is_ended
    )
