"""Billing events of payment methods and invoice documents (customer self-service).

Facts from Stripe, published by the webhooks service (``causation_id`` = the Stripe
event id, ``stripe_created`` = its ``created``). ``events.EVENT_TYPES`` (the catalogue
consumers decode with) takes ``PAYMENT_CATALOGUE`` beside ``event_catalogue.CATALOGUE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.envelope import IntegrationEvent
from billing_domain.event_catalogue import InvoiceEvent, StripeDerivedEvent
from billing_domain.payment_methods import CardOnFile


@dataclass(frozen=True, kw_only=True)
class PaymentMethodEvent(StripeDerivedEvent):
    """Common data of ``payment_method.*``: the card summary, never more of the card."""

    stripe_payment_method_id: str
    stripe_customer_id: str
    brand: str | None = None
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    payment_method_created: datetime | None = None

    def card(self) -> CardOnFile:
        return CardOnFile(
            payment_method_id=self.stripe_payment_method_id,
            brand=self.brand,
            last4=self.last4,
            exp_month=self.exp_month,
            exp_year=self.exp_year,
            created=self.payment_method_created,
        )


@dataclass(frozen=True, kw_only=True)
class PaymentMethodAttached(PaymentMethodEvent):
    """A card was saved to the tenant's customer (setup, checkout, portal)."""

    type = "payment_method.attached"


@dataclass(frozen=True, kw_only=True)
class PaymentMethodUpdated(PaymentMethodEvent):
    """A card's details changed; ``automatic`` when the card network updated it (Stripe's
    ``payment_method.automatically_updated``: a renewed card's new expiry or number)."""

    type = "payment_method.updated"
    automatic: bool = False


@dataclass(frozen=True, kw_only=True)
class PaymentMethodDetached(PaymentMethodEvent):
    """The card was removed from the customer (it can never be charged for them again)."""

    type = "payment_method.detached"


@dataclass(frozen=True, kw_only=True)
class InvoiceDocumentEvent(InvoiceEvent):
    """An invoice as a document the tenant sees (number, status, totals, period, links)."""

    amount_due: int


@dataclass(frozen=True, kw_only=True)
class InvoiceCreated(InvoiceDocumentEvent):
    """A draft invoice exists (a renewal, a proration); finalized about an hour later."""

    type = "invoice.created"


@dataclass(frozen=True, kw_only=True)
class InvoiceFinalized(InvoiceDocumentEvent):
    """The invoice is final (``open``): it has a number, a hosted page and a PDF."""

    type = "invoice.finalized"


@dataclass(frozen=True, kw_only=True)
class InvoiceUpdated(InvoiceDocumentEvent):
    """Anything else about the invoice changed (an attempt, a due date, its lines)."""

    type = "invoice.updated"


PAYMENT_CATALOGUE: tuple[type[IntegrationEvent], ...] = (
    PaymentMethodAttached,
    PaymentMethodUpdated,
    PaymentMethodDetached,
    InvoiceCreated,
    InvoiceFinalized,
    InvoiceUpdated,
)
