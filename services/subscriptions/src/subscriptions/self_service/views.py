"""The JSON bodies of the self-service endpoints (ARCHITECTURE 8.4), and the invoice
cursor (opaque to clients)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Any

from billing_domain.errors import RuleViolated
from billing_domain.invoice_history import InvoiceDocument
from billing_domain.timestamps import to_rfc3339

from subscriptions.self_service.commands import InvoicePage, Wallet
from subscriptions.self_service.ports import InvoiceCursor
from subscriptions.views import followable_url

MAX_CURSOR = 400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(value: datetime | None) -> str | None:
    return None if value is None else to_rfc3339(value)


def payment_methods_body(wallet: Wallet, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": card.payment_method_id,
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "default": card.payment_method_id == wallet.default_payment_method_id,
            "expiring_soon": card.expiring_soon(now),
            "expired": card.expired(now),
        }
        for card in wallet.cards
    ]


def invoice_body(invoice: InvoiceDocument) -> dict[str, Any]:
    return {
        "id": invoice.invoice_id,
        "number": invoice.number,
        "status": invoice.status,
        "total": invoice.total,
        "amount_due": invoice.amount_due,
        "currency": invoice.currency,
        "period_start": _time(invoice.period_start),
        "period_end": _time(invoice.period_end),
        "created": _time(invoice.created),
        "hosted_invoice_url": followable_url(invoice.hosted_invoice_url),
        "invoice_pdf": followable_url(invoice.invoice_pdf),
    }


def invoices_body(page: InvoicePage) -> dict[str, Any]:
    return {
        "invoices": [invoice_body(invoice) for invoice in page.invoices],
        "next_cursor": None if page.next_cursor is None else encode_cursor(page.next_cursor),
    }


def encode_cursor(cursor: InvoiceCursor) -> str:
    micros = (cursor.created - EPOCH) // timedelta(microseconds=1)
    raw = f"{micros}:{cursor.invoice_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str | None) -> InvoiceCursor | None:
    """``None`` for no cursor; 422 ``bad_cursor`` for anything we did not hand out."""
    if not value:
        return None
    try:
        if len(value) > MAX_CURSOR:
            raise ValueError
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        micros, _, invoice_id = raw.partition(":")
        if not micros.isascii() or not micros.isdigit() or not invoice_id.isprintable():
            raise ValueError
        created = EPOCH + timedelta(microseconds=int(micros))
    except (ValueError, UnicodeDecodeError, binascii.Error, OverflowError, OSError):
        raise RuleViolated("cursor is not one this API handed out", code="bad_cursor") from None
    if not invoice_id:
        raise RuleViolated("cursor is not one this API handed out", code="bad_cursor")
    return InvoiceCursor(created=created, invoice_id=invoice_id)
