"""Integration events of the Customer Portal, listed in the catalogue.

``portal.session_created`` (source ``checkout``): the checkout service opened a Stripe
Customer Portal session for a tenant's customer (portal usage, docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.envelope import IntegrationEvent


@dataclass(frozen=True, kw_only=True)
class PortalSessionCreated(IntegrationEvent):
    type = "portal.session_created"
    stripe_customer_id: str


PORTAL_EVENTS: tuple[type[IntegrationEvent], ...] = (PortalSessionCreated,)
