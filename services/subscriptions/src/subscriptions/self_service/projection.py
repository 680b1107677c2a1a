"""Folding billing events into the tenant's cards and invoice history.

Called by ``subscriptions.projection.project_billing_event`` in the same transaction
as the account's projection (one inbox record per message). Per Stripe object the
ordering guard keeps the newest state; a detached card stays detached (Stripe never
attaches a detached payment method again).
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from billing_domain import events
from billing_domain import payment_events as pay
from billing_domain.customer_events import CustomerUpdated
from billing_domain.invoice_history import InvoiceDocument, fold_invoice
from billing_domain.ordering import ApplyOutcome, judge

from subscriptions.self_service.ports import SelfServiceRepository, StoredCard

ONLY_SELF_SERVICE = (pay.PaymentMethodEvent, pay.InvoiceDocumentEvent, CustomerUpdated)
"""Events that change nothing but these projections (the account is not touched)."""

_IMPLIED_STATUS: dict[type[events.InvoiceEvent], str] = {
    events.InvoicePaid: "paid",
    events.InvoiceVoided: "void",
    events.InvoiceMarkedUncollectible: "uncollectible",
    events.InvoicePaymentFailed: "open",
    events.InvoicePaymentActionRequired: "open",
}


class Folded(StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"
    NOT_MINE = "not_mine"


async def project_self_service(
    event: events.IntegrationEvent, repo: SelfServiceRepository
) -> Folded:
    if isinstance(event, pay.PaymentMethodEvent):
        return await _card(event, repo)
    if isinstance(event, events.InvoiceEvent):
        return await _invoice(event, repo)
    if isinstance(event, CustomerUpdated):
        # the default method (a detached default is never shown: the read joins the cards)
        await repo.set_default(
            event.tenant_id,
            event.stripe_customer_id,
            event.default_payment_method_id,
            event.applied_mark(),
        )
        return Folded.APPLIED
    return Folded.NOT_MINE


async def _card(event: pay.PaymentMethodEvent, repo: SelfServiceRepository) -> Folded:
    current = await repo.card_for_update(event.tenant_id, event.stripe_payment_method_id)
    mark = event.applied_mark()
    detaching = isinstance(event, pay.PaymentMethodDetached)
    if current is not None:
        if current.detached:
            return Folded.IGNORED  # terminal: Stripe never re-attaches a detached method
        if (
            not detaching
            and mark is not None
            and current.last_applied is not None
            and judge(current.last_applied, mark) in (ApplyOutcome.STALE, ApplyOutcome.DUPLICATE)
        ):
            return Folded.IGNORED
    await repo.save_card(
        StoredCard(
            tenant_id=event.tenant_id,
            stripe_customer_id=event.stripe_customer_id,
            card=event.card(),
            detached=detaching,
            last_applied=mark,
        )
    )
    return Folded.APPLIED


def invoice_document(event: events.InvoiceEvent) -> InvoiceDocument:
    amount_due: int | None = None
    if isinstance(
        event,
        pay.InvoiceDocumentEvent
        | events.InvoicePaymentFailed
        | events.InvoicePaymentActionRequired
        | events.InvoiceMarkedUncollectible,
    ):
        amount_due = event.amount_due
    return InvoiceDocument(
        invoice_id=event.stripe_invoice_id,
        tenant_id=event.tenant_id,
        stripe_customer_id=event.stripe_customer_id,
        stripe_subscription_id=event.stripe_subscription_id,
        number=event.number,
        status=event.status or _IMPLIED_STATUS.get(type(event)),
        total=event.total,
        amount_due=amount_due,
        currency=event.currency,
        period_start=event.period_start,
        period_end=event.period_end,
        created=event.invoice_created or event.stripe_created,
        hosted_invoice_url=event.hosted_invoice_url,
        invoice_pdf=event.invoice_pdf,
        payment_method_id=event.stripe_payment_method_id,
        last_applied=event.applied_mark(),
    )


async def _invoice(event: events.InvoiceEvent, repo: SelfServiceRepository) -> Folded:
    current = await repo.invoice_for_update(event.tenant_id, event.stripe_invoice_id)
    incoming = invoice_document(event)
    if current is None and incoming.amount_due is None and isinstance(event, events.InvoicePaid):
        incoming = _with_amount(incoming, event.amount_paid)
    folded, _ = fold_invoice(current, incoming)
    if folded is None:
        return Folded.IGNORED
    await repo.save_invoice(folded)
    return Folded.APPLIED


def _with_amount(invoice: InvoiceDocument, amount: int) -> InvoiceDocument:
    return replace(invoice, amount_due=amount, total=invoice.total or amount)
