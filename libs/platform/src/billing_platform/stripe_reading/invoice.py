"""A Stripe invoice -> our invoice (list rows, dunning events).

Since API 2025-03-31.basil an invoice names its subscription under
``parent.subscription_details`` (with that subscription's metadata, where our
tenant id is); the top-level ``subscription`` of older versions is read as a
fallback, for events stored or replayed from endpoints on older versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing_domain.errors import RuleViolated

from billing_platform.stripe_reading.fields import (
    id_of,
    integer,
    listed,
    mapping,
    metadata,
    text,
    timestamp,
)


@dataclass(frozen=True, kw_only=True)
class InvoiceReading:
    invoice_id: str
    customer_id: str
    number: str | None
    status: str | None
    total: int
    amount_due: int
    amount_paid: int
    currency: str
    period_start: datetime | None
    period_end: datetime | None
    """The period the invoice bills (``service_period``)."""
    created: datetime | None
    hosted_invoice_url: str | None
    invoice_pdf: str | None
    subscription_id: str | None
    tenant_hint: str | None
    """``tenant_id`` in the invoice's or its subscription's metadata."""
    attempt_count: int
    """Payment attempts so far (at least 1 once a payment failed)."""
    next_payment_attempt: datetime | None
    """When Stripe retries; ``None`` when it has given up (or never will)."""
    amount_remaining: int = 0
    """What is still owed on it (``amount_due - amount_paid``)."""
    payment_method_id: str | None = None
    """The invoice's own ``default_payment_method`` (the sandbox sets it to the card that
    paid); ``None`` when the subscription's or customer's default is used."""

    def event_data(self) -> dict[str, Any]:
        """The fields every ``InvoiceEvent`` carries (``billing_domain`` events)."""
        return {
            "stripe_invoice_id": self.invoice_id,
            "stripe_customer_id": self.customer_id,
            "stripe_subscription_id": self.subscription_id,
            "currency": self.currency,
            "hosted_invoice_url": self.hosted_invoice_url,
            "number": self.number,
            "status": self.status,
            "total": self.total,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "invoice_created": self.created,
            "invoice_pdf": self.invoice_pdf,
            "stripe_payment_method_id": self.payment_method_id,
        }


def invoice_subscription(invoice: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """The invoice's subscription id and that subscription's metadata, where Stripe says."""
    details = mapping(mapping(invoice, "parent"), "subscription_details")
    found = id_of(details.get("subscription"))
    if found:
        return found, metadata(details)
    return id_of(invoice.get("subscription")), {}


def service_period(invoice: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """What the invoice bills: from its lines' periods, the earliest start to the latest
    end. A subscription's invoice bills in advance, so its lines carry the period paid
    for, while the invoice's own ``period_start``/``period_end`` is the window its pending
    items were gathered in: one instant for a subscription's first invoice, the period
    before for a renewal. The invoice's own is the answer only without dated lines."""
    starts, ends = [], []
    for line in listed(invoice, "lines"):
        period = mapping(line, "period")
        start, end = timestamp(period, "start"), timestamp(period, "end")
        if start is not None and end is not None:
            starts.append(start)
            ends.append(end)
    if starts:
        return min(starts), max(ends)
    return timestamp(invoice, "period_start"), timestamp(invoice, "period_end")


def read_invoice(invoice: Mapping[str, Any]) -> InvoiceReading:
    invoice_id = text(invoice, "id")
    customer = id_of(invoice.get("customer"))
    if invoice_id is None or customer is None:
        raise RuleViolated("invoice without id or customer", code="malformed_invoice")
    subscription_id, subscription_metadata = invoice_subscription(invoice)
    period_start, period_end = service_period(invoice)
    return InvoiceReading(
        invoice_id=invoice_id,
        customer_id=customer,
        number=text(invoice, "number"),
        status=text(invoice, "status"),
        total=integer(invoice, "total"),
        amount_due=integer(invoice, "amount_due"),
        amount_paid=integer(invoice, "amount_paid"),
        currency=text(invoice, "currency") or "usd",
        period_start=period_start,
        period_end=period_end,
        created=timestamp(invoice, "created"),
        hosted_invoice_url=text(invoice, "hosted_invoice_url"),
        invoice_pdf=text(invoice, "invoice_pdf"),
        subscription_id=subscription_id,
        tenant_hint=text(metadata(invoice), "tenant_id")
        or text(subscription_metadata, "tenant_id"),
        attempt_count=integer(invoice, "attempt_count"),
        next_payment_attempt=timestamp(invoice, "next_payment_attempt"),
        amount_remaining=integer(invoice, "amount_remaining"),
        payment_method_id=id_of(invoice.get("default_payment_method")),
    )


def tenant_named_by(obj: Mapping[str, Any]) -> str | None:
    """The tenant any Stripe object names itself: ``metadata.tenant_id``, a Checkout
    session's ``client_reference_id``, an invoice's subscription's metadata."""
    return (
        text(metadata(obj), "tenant_id")
        or text(obj, "client_reference_id")
        or text(invoice_subscription(obj)[1], "tenant_id")
    )


@dataclass(frozen=True, kw_only=True)
class UpcomingInvoiceReading:
    """Stripe's ``invoice.upcoming`` object: the next invoice as it will be (no id yet)."""

    customer_id: str
    subscription_id: str | None
    amount_due: int
    currency: str
    next_payment_attempt: datetime | None
    period_end: datetime | None
    tenant_hint: str | None


def read_upcoming_invoice(invoice: Mapping[str, Any]) -> UpcomingInvoiceReading:
    customer = id_of(invoice.get("customer"))
    if customer is None:
        raise RuleViolated("upcoming invoice without customer", code="malformed_invoice")
    subscription_id, subscription_metadata = invoice_subscription(invoice)
    return UpcomingInvoiceReading(
        customer_id=customer,
        subscription_id=subscription_id,
        amount_due=integer(invoice, "amount_due"),
        currency=text(invoice, "currency") or "usd",
        next_payment_attempt=timestamp(invoice, "next_payment_attempt"),
        period_end=timestamp(invoice, "period_end"),
        tenant_hint=text(metadata(invoice), "tenant_id")
        or text(subscription_metadata, "tenant_id"),
    )
