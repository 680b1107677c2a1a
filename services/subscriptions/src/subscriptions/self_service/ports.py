"""The ports of customer self-service (payment methods, invoices) and the plain values
that cross them. No SDK type, no row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from billing_domain.invoice_history import InvoiceDocument
from billing_domain.ordering import AppliedMark
from billing_domain.payment_methods import CardOnFile


@dataclass(frozen=True, kw_only=True)
class StoredCard:
    """A payment method of the tenant's customer as the projection keeps it."""

    tenant_id: str
    stripe_customer_id: str
    card: CardOnFile
    detached: bool = False
    last_applied: AppliedMark | None = None


@dataclass(frozen=True, kw_only=True)
class CardList:
    """The tenant's usable cards (detached ones left out) and its default method."""

    cards: list[CardOnFile]
    default_payment_method_id: str | None


@dataclass(frozen=True, kw_only=True)
class InvoiceCursor:
    """Where a page of the invoice history starts: after this (created, id), newest first."""

    created: datetime
    invoice_id: str


@dataclass(frozen=True, kw_only=True)
class StripeInvoiceState:
    """An invoice as Stripe has it now (what "pay now" decides on)."""

    invoice_id: str
    customer_id: str
    status: str | None
    amount_remaining: int


@dataclass(frozen=True, kw_only=True)
class CustomerWallet:
    """A customer's cards, default and invoices as Stripe has them (reconcile)."""

    cards: list[CardOnFile]
    default_payment_method_id: str | None
    invoices: list[InvoiceDocument]


class SelfServiceRepository(Protocol):
    """The projections on the unit of work's connection (rows locked until commit)."""

    async def card_for_update(
        self, tenant_id: str, payment_method_id: str
    ) -> StoredCard | None: ...

    async def save_card(self, card: StoredCard) -> None: ...

    async def cards_of(self, tenant_id: str) -> list[StoredCard]:
        """Every card row of the tenant, detached ones too, locked."""
        ...

    async def set_default(
        self,
        tenant_id: str,
        customer_id: str | None,
        payment_method_id: str | None,
        mark: AppliedMark | None = None,
    ) -> None:
        """``mark``: the customer.updated event's; then only when no newer one set it."""
        ...

    async def invoice_for_update(
        self, tenant_id: str, invoice_id: str
    ) -> InvoiceDocument | None: ...

    async def save_invoice(self, invoice: InvoiceDocument) -> None: ...


class SelfServiceReader(Protocol):
    """Reads outside any transaction: the list endpoints (never Stripe)."""

    async def cards(self, tenant_id: str) -> CardList: ...

    async def card(self, tenant_id: str, payment_method_id: str) -> StoredCard | None:
        """An attached card of this tenant; ``None`` for a detached one or anyone else's."""
        ...

    async def invoices(
        self, tenant_id: str, *, after: InvoiceCursor | None, limit: int
    ) -> list[InvoiceDocument]:
        """Newest first (created, then id, descending)."""
        ...

    async def invoice(self, tenant_id: str, invoice_id: str) -> InvoiceDocument | None: ...


class SelfServiceGateway(Protocol):
    """Stripe, as self-service uses it. Every method may raise ``GatewayUnavailable``."""

    async def set_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> list[str]:
        """The customer's ``invoice_settings.default_payment_method`` AND every live
        subscription's ``default_payment_method``; the ids of the subscriptions updated."""
        ...

    async def detach_payment_method(
        self, payment_method_id: str, *, idempotency_key: str
    ) -> None: ...

    async def invoice_state(self, invoice_id: str) -> StripeInvoiceState: ...

    async def wallet(self, customer_id: str, tenant_id: str) -> CustomerWallet:
        """The customer's cards, default and recent invoices (``billing reconcile``)."""
        ...


def usable(cards: Sequence[StoredCard]) -> list[CardOnFile]:
    return [stored.card for stored in cards if not stored.detached]
