"""Billing events about the tenant's Stripe customer (source ``webhooks``)."""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.stripe_derived import StripeDerivedEvent


@dataclass(frozen=True, kw_only=True)
class CustomerUpdated(StripeDerivedEvent):
    """The tenant's Stripe customer as it now stands: billing email, name, locales,
    default payment method (from Stripe ``customer.created`` and ``customer.updated``)."""

    type = "customer.updated"
    stripe_customer_id: str
    email: str | None = None
    name: str | None = None
    preferred_locales: tuple[str, ...] = ()
    """Stripe's ``preferred_locales``, most preferred first (may be empty)."""
    default_payment_method_id: str | None = None
    """``invoice_settings.default_payment_method``."""
