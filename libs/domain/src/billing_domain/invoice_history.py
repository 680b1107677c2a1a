"""An invoice as the tenant's invoice history shows it, and how events fold into it.

Stripe delivers ``invoice.*`` in no particular order and often several in one second
(``invoice.finalized`` and ``invoice.paid`` of a renewal): an older event never
overwrites a newer one, and of two events of the same second the one further along
the invoice's life wins (``payment_methods.further_along``). Fields an event does not
carry (events stored before they existed) keep what is known.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from billing_domain.ordering import AppliedMark, ApplyOutcome, judge
from billing_domain.payment_methods import further_along


@dataclass(frozen=True, kw_only=True)
class InvoiceDocument:
    invoice_id: str
    tenant_id: str
    stripe_customer_id: str
    stripe_subscription_id: str | None = None
    number: str | None = None
    status: str | None = None
    total: int | None = None
    amount_due: int | None = None
    currency: str
    period_start: datetime | None = None
    period_end: datetime | None = None
    created: datetime | None = None
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    payment_method_id: str | None = None
    last_applied: AppliedMark | None = None


_KEPT_WHEN_MISSING = (
    "stripe_subscription_id",
    "number",
    "status",
    "total",
    "amount_due",
    "period_start",
    "period_end",
    "created",
    "hosted_invoice_url",
    "invoice_pdf",
    "payment_method_id",
)


def fold_invoice(
    current: InvoiceDocument | None, incoming: InvoiceDocument
) -> tuple[InvoiceDocument | None, ApplyOutcome]:
    """The invoice after ``incoming`` (``None`` when nothing changes) and why."""
    if current is None or incoming.last_applied is None:
        return _merged(current, incoming), ApplyOutcome.APPLIED
    if current.last_applied is None:
        return _merged(current, incoming), ApplyOutcome.APPLIED
    outcome = judge(current.last_applied, incoming.last_applied)
    if outcome is ApplyOutcome.TIE:
        if not further_along(current.status, incoming.status):
            return None, ApplyOutcome.STALE
        return _merged(current, incoming), ApplyOutcome.APPLIED
    if outcome is not ApplyOutcome.APPLIED:
        return None, outcome
    return _merged(current, incoming), outcome


def _merged(current: InvoiceDocument | None, incoming: InvoiceDocument) -> InvoiceDocument:
    if current is None:
        return incoming
    kept = {
        name: getattr(current, name)
        for name in _KEPT_WHEN_MISSING
        if getattr(incoming, name) is None
    }
    return replace(incoming, **kept)
