"""``entitlements.changed``: a tenant's grant (the plan whose features and limits it
gets) changed. Published by the subscriptions service from its projection, exactly when
the granted plan changes: an upgrade taking effect, a downgrade or a cancellation when it
takes effect, a trial ending without payment (paused: the free plan). A change of price
only (team monthly -> team yearly) changes no grant and publishes nothing.

``events.EVENT_TYPES`` takes ``ENTITLEMENT_CATALOGUE`` beside the others. The features
and limits are not in the message: they are the plan's
(``billing_domain.plan_catalogue``), and ``GET /api/billing/entitlements`` answers them.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing_domain.envelope import IntegrationEvent
from billing_domain.plans import PlanType


@dataclass(frozen=True, kw_only=True)
class EntitlementsChanged(IntegrationEvent):
    type = "entitlements.changed"
    plan: PlanType
    """The plan granted now (``free`` when the subscription no longer grants access)."""
    previous_plan: PlanType
    stripe_subscription_id: str | None = None


ENTITLEMENT_CATALOGUE: tuple[type[IntegrationEvent], ...] = (EntitlementsChanged,)
