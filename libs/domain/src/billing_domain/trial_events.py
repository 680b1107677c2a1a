"""Integration events of trials (architecture section 8.3), listed in the catalogue.

``subscription.trial_extended`` (source ``subscriptions``): an operator moved a tenant's
trial end later, without proration. ``previous_trial_end`` -> ``trial_end``; the tenant's
extensions add up to ``total_extended_days`` (capped by ``TRIAL_MAX_EXTENSION_DAYS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.envelope import IntegrationEvent
from billing_domain.plans import PlanType


@dataclass(frozen=True, kw_only=True)
class SubscriptionTrialExtended(IntegrationEvent):
    type = "subscription.trial_extended"
    stripe_subscription_id: str
    stripe_customer_id: str
    plan: PlanType
    previous_trial_end: datetime
    trial_end: datetime
    extend_days: int
    total_extended_days: int
    reason: str
    extended_by: str
    """The operator's ``sub``."""


TRIAL_EVENTS: tuple[type[IntegrationEvent], ...] = (SubscriptionTrialExtended,)
