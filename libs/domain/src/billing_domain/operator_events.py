"""Billing events of operators' actions (source ``subscriptions``).

``causation_id`` = the HTTP request's id. ``events.EVENT_TYPES`` (the catalogue
consumers decode with) takes ``OPERATOR_CATALOGUE`` beside the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.envelope import IntegrationEvent


@dataclass(frozen=True, kw_only=True)
class PaymentReminderRequested(IntegrationEvent):
    """An operator asked for the payment-failed email now; notifications sends it.

    Still at most one per tenant, invoice and day (the notifications service's dedupe)."""

    type = "payment.reminder_requested"
    stripe_invoice_id: str | None = None
    """The failed invoice the reminder is about, when the tenant has one."""
    requested_by: str
    """The operator's ``sub``."""


OPERATOR_CATALOGUE: tuple[type[IntegrationEvent], ...] = (PaymentReminderRequested,)
