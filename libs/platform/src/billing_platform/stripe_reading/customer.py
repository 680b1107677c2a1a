"""A Stripe customer -> who gets the tenant's billing mail (email, name, locales) and
its default payment method."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from billing_domain.errors import RuleViolated

from billing_platform.stripe_reading.fields import customer_tenant, id_of, mapping, text


@dataclass(frozen=True, kw_only=True)
class CustomerReading:
    customer_id: str
    email: str | None
    name: str | None
    preferred_locales: tuple[str, ...]
    default_payment_method_id: str | None
    tenant_hint: str | None
    """``metadata.tenant_id`` (set by checkout when it creates the customer)."""

    def event_data(self) -> dict[str, Any]:
        """The fields of ``billing_domain.events.CustomerUpdated``."""
        return {
            "stripe_customer_id": self.customer_id,
            "email": self.email,
            "name": self.name,
            "preferred_locales": self.preferred_locales,
            "default_payment_method_id": self.default_payment_method_id,
        }


def read_customer(customer: Mapping[str, Any]) -> CustomerReading:
    customer_id = text(customer, "id")
    if customer_id is None:
        raise RuleViolated("customer without id", code="malformed_customer")
    locales = customer.get("preferred_locales")
    listed = locales if isinstance(locales, list) else []
    return CustomerReading(
        customer_id=customer_id,
        email=text(customer, "email"),
        name=text(customer, "name"),
        preferred_locales=tuple(loc for loc in listed if isinstance(loc, str) and loc),
        default_payment_method_id=id_of(
            mapping(customer, "invoice_settings").get("default_payment_method")
        ),
        tenant_hint=customer_tenant(customer),
    )
