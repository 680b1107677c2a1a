"""Fakes of the self-service ports (tests only: an import-linter contract keeps production
code from importing this module). The reader reads the store of ``subscriptions.testing``
(its committed cards, invoices and defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from billing_domain.errors import NotFound
from billing_domain.invoice_history import InvoiceDocument

from subscriptions.self_service.ports import (
    CardList,
    CustomerWallet,
    InvoiceCursor,
    StoredCard,
    StripeInvoiceState,
)


class FakeStore(Protocol):
    """The part of ``subscriptions.testing.FakeStore`` these fakes read."""

    cards: dict[tuple[str, str], StoredCard]
    invoices: dict[tuple[str, str], InvoiceDocument]
    defaults: dict[str, str | None]


class FakeSelfServiceReader:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def cards(self, tenant_id: str) -> CardList:
        mine = [c for (t, _), c in sorted(self.store.cards.items()) if t == tenant_id]
        attached = [c.card for c in mine if not c.detached]
        default = self.store.defaults.get(tenant_id)
        ids = {card.payment_method_id for card in attached}
        return CardList(
            cards=attached, default_payment_method_id=default if default in ids else None
        )

    async def card(self, tenant_id: str, payment_method_id: str) -> StoredCard | None:
        found = self.store.cards.get((tenant_id, payment_method_id))
        return None if found is None or found.detached else found

    async def invoices(
        self, tenant_id: str, *, after: InvoiceCursor | None, limit: int
    ) -> list[InvoiceDocument]:
        mine = [i for (t, _), i in self.store.invoices.items() if t == tenant_id]
        mine.sort(key=lambda i: (i.created, i.invoice_id), reverse=True)
        if after is not None:
            mine = [
                i for i in mine if (i.created, i.invoice_id) < (after.created, after.invoice_id)
            ]
        return mine[:limit]

    async def invoice(self, tenant_id: str, invoice_id: str) -> InvoiceDocument | None:
        return self.store.invoices.get((tenant_id, invoice_id))


@dataclass
class FakeSelfServiceGateway:
    """Stripe for self-service: defaults per customer and subscription, detached cards,
    invoices' states; every call recorded."""

    subscriptions: dict[str, list[str]] = field(default_factory=dict)  # customer -> subs
    defaults: dict[str, str] = field(default_factory=dict)  # customer or sub -> pm
    detached: list[str] = field(default_factory=list)
    invoice_states: dict[str, StripeInvoiceState] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    async def set_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> list[str]:
        self.calls.append(f"default:{payment_method_id}")
        self.defaults[customer_id] = payment_method_id
        for sub in self.subscriptions.get(customer_id, []):
            self.defaults[sub] = payment_method_id
        return list(self.subscriptions.get(customer_id, []))

    async def detach_payment_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        self.calls.append(f"detach:{payment_method_id}")
        self.detached.append(payment_method_id)

    async def invoice_state(self, invoice_id: str) -> StripeInvoiceState:
        self.calls.append(f"invoice:{invoice_id}")
        if invoice_id not in self.invoice_states:
            raise NotFound("no such invoice", code="stripe_not_found")
        return self.invoice_states[invoice_id]

    async def wallet(self, customer_id: str, tenant_id: str) -> CustomerWallet:
        self.calls.append(f"wallet:{customer_id}")
        return CustomerWallet(cards=[], default_payment_method_id=None, invoices=[])
