"""Billing events about a renewal to come (source ``webhooks``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.envelope import IntegrationEvent
from billing_domain.stripe_derived import StripeDerivedEvent


@dataclass(frozen=True, kw_only=True)
class InvoiceUpcoming(StripeDerivedEvent):
    """Stripe will soon create and charge the subscription's next invoice (Stripe's
    ``invoice.upcoming``, some days before the renewal: the invoice has no id yet)."""

    type = "invoice.upcoming"
    stripe_customer_id: str
    stripe_subscription_id: str | None = None
    amount_due: int
    currency: str
    interval: str | None = None
    """The subscription's billing interval (``month``, ``year``), when known."""
    renews_at: datetime | None = None
    """When Stripe will charge it (its next payment attempt, else the period's end)."""


RENEWAL_CATALOGUE: tuple[type[IntegrationEvent], ...] = (InvoiceUpcoming,)
