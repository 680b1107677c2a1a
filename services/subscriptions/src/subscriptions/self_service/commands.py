"""Commands of customer self-service (frozen, keyword-only) and what the use cases answer."""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.auth import Principal
from billing_domain.invoice_history import InvoiceDocument
from billing_domain.payment_methods import CardOnFile

from subscriptions.self_service.ports import InvoiceCursor


@dataclass(frozen=True, kw_only=True)
class ListPaymentMethods:
    principal: Principal
    tenant_id: str


@dataclass(frozen=True, kw_only=True)
class ListInvoices:
    principal: Principal
    tenant_id: str
    after: InvoiceCursor | None
    limit: int


@dataclass(frozen=True, kw_only=True)
class MakeDefault:
    principal: Principal
    tenant_id: str
    payment_method_id: str
    request_key: str
    """Makes the Stripe calls idempotent: the caller's ``Idempotency-Key`` or a fresh id."""


@dataclass(frozen=True, kw_only=True)
class RemovePaymentMethod:
    principal: Principal
    tenant_id: str
    payment_method_id: str
    request_key: str


@dataclass(frozen=True, kw_only=True)
class PayInvoice:
    principal: Principal
    tenant_id: str
    invoice_id: str
    request_key: str


@dataclass(frozen=True, kw_only=True)
class Wallet:
    """The tenant's cards as the list shows them."""

    cards: list[CardOnFile]
    default_payment_method_id: str | None


@dataclass(frozen=True, kw_only=True)
class Removal:
    removed: str
    default_payment_method_id: str | None
    """The default after the removal (another card when the default went)."""
    default_note: str | None
    """Why no card became the default, when the default went and none could."""
    wallet: Wallet


@dataclass(frozen=True, kw_only=True)
class InvoicePage:
    invoices: list[InvoiceDocument]
    next_cursor: InvoiceCursor | None


@dataclass(frozen=True, kw_only=True)
class PaymentAttempt:
    invoice_id: str
    status: str | None
    """Stripe's answer (``paid`` when the charge went through); the tenant's payment-failure
    state clears only when ``invoice.paid`` arrives."""
