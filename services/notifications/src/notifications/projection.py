"""What notifications learns from billing events, and which mails they queue.

- ``customer.updated``: the tenant's recipient (email, name, locales, default method).
- ``subscription.*``: the little state a mail is re-checked against before it goes
  (status, trial end, cancel at period end); ``subscription.cancel_scheduled``,
  ``.canceled``, ``.trial_will_end``, ``.plan_changed`` queue their mails.
- ``invoice.payment_failed`` opens a payment failure (and queues its mail);
  ``invoice.paid`` of that invoice closes it and queues "payment recovered";
  ``invoice.voided`` / ``.marked_uncollectible`` close it quietly.
- ``payment_method.*``: the cards on file (for the card-expiring sweep).
- ``payment.reminder_requested`` (an operator's reminder): the payment-failed mail now.

A mail is queued in the send log once per (kind, tenant, subject, day) and sent by
the sender after the commit. Out-of-order events never roll the state back (Stripe's
``created``, else ``occurred_at``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import structlog
from billing_domain import events as ev
from billing_domain.clock import Clock
from billing_domain.envelope import IntegrationEvent
from billing_domain.payment_events import (
    PaymentMethodAttached,
    PaymentMethodDetached,
    PaymentMethodUpdated,
)
from billing_domain.renewal_events import InvoiceUpcoming
from billing_platform.messaging.billing_events import ConsumedEvent

from notifications import metrics
from notifications.kinds import MailKind
from notifications.ports import CardRecord, QueuedMail, Recipient, TenantState, UnitOfWork

log = structlog.get_logger("notifications.projection")

REMINDER_TYPE = "payment.reminder_requested"
TRIAL_EXTENDED_TYPE = "subscription.trial_extended"
OPTIONAL_TYPES = (REMINDER_TYPE, TRIAL_EXTENDED_TYPE)
"""Types of other helpers' work: consumed once they are in the catalogue."""

CONSUMED_TYPES: tuple[type[IntegrationEvent], ...] = (
    ev.CustomerUpdated,
    ev.SubscriptionUpdated,
    ev.SubscriptionActivated,
    ev.SubscriptionCancelScheduled,
    ev.SubscriptionResumed,
    ev.SubscriptionPlanChanged,
    ev.SubscriptionCanceled,
    ev.SubscriptionTrialWillEnd,
    ev.InvoicePaymentFailed,
    ev.InvoicePaid,
    ev.InvoiceVoided,
    ev.InvoiceMarkedUncollectible,
    PaymentMethodAttached,
    PaymentMethodUpdated,
    PaymentMethodDetached,
    InvoiceUpcoming,
    *(ev.EVENT_TYPES[name] for name in OPTIONAL_TYPES if name in ev.EVENT_TYPES),
)


async def project_billing_event(
    cmd: ConsumedEvent, uow: UnitOfWork, clock: Clock, renewal_intervals: frozenset[str]
) -> bool:
    """Apply one consumed message once (inbox, same transaction); False for a copy."""
    async with uow:
        if not await uow.inbox.record(cmd.message_id, cmd.routing_key):
            log.info("notifications.event.duplicate_message", message_id=cmd.message_id)
            return False
        queued = await apply_event(uow, cmd.event, clock, renewal_intervals)
        await uow.commit()
    if queued:
        log.info("notifications.mail.queued", type=cmd.event.type, count=queued)
    return True


def _as_of(event: IntegrationEvent) -> datetime:
    created = getattr(event, "stripe_created", None)
    return created if isinstance(created, datetime) else event.occurred_at


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def _queue(
    uow: UnitOfWork, event: IntegrationEvent, kind: MailKind, subject: str, **facts: Any
) -> int:
    mail = QueuedMail(
        kind=kind,
        tenant_id=event.tenant_id,
        subject_id=subject,
        day=_as_of(event).date(),
        facts=facts,
        created_at=event.occurred_at,
    )
    queued = await uow.sends.enqueue(mail)
    if queued:
        metrics.QUEUED.labels(kind.value).inc()
    return int(queued)


async def apply_event(
    uow: UnitOfWork, event: IntegrationEvent, clock: Clock, renewal_intervals: frozenset[str]
) -> int:
    """Fold one event into the projection; the number of mails it queued."""
    if isinstance(event, ev.CustomerUpdated):
        await uow.recipients.save(
            Recipient(
                tenant_id=event.tenant_id,
                customer_id=event.stripe_customer_id,
                email=event.email,
                name=event.name,
                locales=event.preferred_locales,
                default_payment_method_id=event.default_payment_method_id,
                as_of=_as_of(event),
            )
        )
        return 0
    if isinstance(event, ev.SubscriptionEvent):
        return await _subscription(uow, event)
    if isinstance(event, ev.InvoiceEvent) and not isinstance(event, _DOCUMENT_TYPES):
        return await _invoice(uow, event)
    if isinstance(event, PaymentMethodAttached | PaymentMethodUpdated):
        await uow.cards.save(
            CardRecord(
                tenant_id=event.tenant_id,
                payment_method_id=event.stripe_payment_method_id,
                brand=event.brand,
                last4=event.last4,
                exp_month=event.exp_month,
                exp_year=event.exp_year,
            )
        )
        return 0
    if isinstance(event, PaymentMethodDetached):
        await uow.cards.remove(event.tenant_id, event.stripe_payment_method_id)
        return 0
    if event.type == REMINDER_TYPE:
        return await _reminder(uow, event, clock)
    if event.type == TRIAL_EXTENDED_TYPE:
        trial_end = getattr(event, "trial_end", None)
        subject = f"{getattr(event, 'stripe_subscription_id', '')}:{_iso(trial_end)}"
        return await _queue(uow, event, MailKind.TRIAL_EXTENDED, subject, trial_end=_iso(trial_end))
    if isinstance(event, InvoiceUpcoming):
        return await _upcoming(uow, event, renewal_intervals)
    log.info("notifications.event.ignored", type=event.type)
    return 0


_DOCUMENT_TYPES: tuple[type[IntegrationEvent], ...] = tuple(
    ev.EVENT_TYPES[name]
    for name in ("invoice.created", "invoice.finalized", "invoice.updated")
    if name in ev.EVENT_TYPES
)


async def _state(uow: UnitOfWork, tenant_id: str) -> TenantState:
    return await uow.states.get(tenant_id) or TenantState(tenant_id=tenant_id)


async def _subscription(uow: UnitOfWork, event: ev.SubscriptionEvent) -> int:
    state = await _state(uow, event.tenant_id)
    as_of = _as_of(event)
    if state.subscription_as_of is None or state.subscription_as_of <= as_of:
        await uow.states.save(
            replace(
                state,
                status=event.status.value,
                trial_end=event.trial_end,
                cancel_at_period_end=event.cancel_at_period_end,
                subscription_as_of=as_of,
            )
        )
    sub, plan = event.stripe_subscription_id, event.plan.value
    if isinstance(event, ev.SubscriptionCancelScheduled):
        ends = _iso(event.current_period_end)
        return await _queue(
            uow, event, MailKind.CANCELLATION_SCHEDULED, sub, plan=plan, ends_at=ends
        )
    if isinstance(event, ev.SubscriptionCanceled):
        ended = _iso(event.ended_at or event.stripe_created or event.occurred_at)
        return await _queue(uow, event, MailKind.SUBSCRIPTION_ENDED, sub, plan=plan, ended_at=ended)
    if isinstance(event, ev.SubscriptionTrialWillEnd):
        trial_end = _iso(event.trial_end)
        return await _queue(uow, event, MailKind.TRIAL_ENDING, sub, plan=plan, trial_end=trial_end)
    if isinstance(event, ev.SubscriptionPlanChanged):
        return await _queue(
            uow,
            event,
            MailKind.PLAN_CHANGED,
            f"{sub}:{event.to_plan.value}:{event.effective.value}",
            from_plan=event.from_plan.value,
            to_plan=event.to_plan.value,
            effective=event.effective.value,
            effective_at=_iso(event.effective_at),
        )
    return 0


def _failure_facts(event: ev.InvoicePaymentFailed) -> dict[str, Any]:
    return {
        "invoice_id": event.stripe_invoice_id,
        "amount": event.amount_due,
        "currency": event.currency,
        "attempt": event.attempt_count,
        "next_attempt": _iso(event.next_payment_attempt),
        "hosted_invoice_url": event.hosted_invoice_url,
    }


async def _invoice(uow: UnitOfWork, event: ev.InvoiceEvent) -> int:
    state = await _state(uow, event.tenant_id)
    invoice, as_of = event.stripe_invoice_id, _as_of(event)
    if isinstance(event, ev.InvoicePaymentFailed):
        if state.invoice_as_of is not None and state.invoice_as_of > as_of:
            return 0  # an older failure than what we know (it may be paid already)
        facts = _failure_facts(event)
        await uow.states.save(
            replace(state, open_invoice_id=invoice, open_failure=facts, invoice_as_of=as_of)
        )
        return await _queue(uow, event, MailKind.PAYMENT_FAILED, invoice, **facts)
    if state.open_invoice_id != invoice:
        if state.invoice_as_of is None or state.invoice_as_of <= as_of:
            await uow.states.save(replace(state, invoice_as_of=as_of))
        return 0
    await uow.states.save(
        replace(state, open_invoice_id=None, open_failure=None, invoice_as_of=as_of)
    )
    if isinstance(event, ev.InvoicePaid):
        return await _queue(
            uow,
            event,
            MailKind.PAYMENT_RECOVERED,
            invoice,
            invoice_id=invoice,
            amount=event.amount_paid,
            currency=event.currency,
        )
    return 0


async def _reminder(uow: UnitOfWork, event: IntegrationEvent, clock: Clock) -> int:
    state = await _state(uow, event.tenant_id)
    asked = getattr(event, "stripe_invoice_id", None)
    facts = state.open_failure
    if facts is None or (asked is not None and asked != state.open_invoice_id):
        log.warning(
            "notifications.reminder.nothing_due",
            tenant_id=event.tenant_id,
            stripe_invoice_id=asked,
        )
        return 0
    mail = QueuedMail(
        kind=MailKind.PAYMENT_FAILED,
        tenant_id=event.tenant_id,
        subject_id=str(facts["invoice_id"]),
        day=clock.now().date(),
        facts=facts,
        created_at=clock.now(),
    )
    return int(await uow.sends.enqueue(mail))


async def _upcoming(uow: UnitOfWork, event: InvoiceUpcoming, intervals: frozenset[str]) -> int:
    if event.interval not in intervals:
        return 0  # RENEWAL_REMINDER_INTERVALS: by default yearly plans only
    renews = event.renews_at
    subject = f"{event.stripe_subscription_id or event.stripe_customer_id}:{_iso(renews)}"
    return await _queue(
        uow,
        event,
        MailKind.UPCOMING_RENEWAL,
        subject,
        amount=event.amount_due,
        currency=event.currency,
        renews_at=_iso(renews),
        interval=event.interval,
    )
