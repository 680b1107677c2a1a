"""Which integration events this service publishes, from what its aggregate recorded.

docs/events.md: one type, one publisher. This service publishes only the
tenant-level changes below; ``subscription.updated`` and ``invoice.*`` belong to
the webhooks service, so the aggregate's other events stay inside the service.
A plan change of a subscription without access (still ``incomplete``) is not
news either: its activation is.
"""

from __future__ import annotations

from datetime import datetime

from billing_domain import events
from billing_domain.clock import Clock
from billing_domain.envelope import IntegrationEvent
from billing_domain.integration_mapping import to_integration_events
from billing_domain.plans import PlanChangeEffective
from billing_domain.subscription import BillingAccount

from subscriptions import metrics

SOURCE = "subscriptions"
PUBLISHED_TYPES: frozenset[str] = frozenset(
    cls.type
    for cls in (
        events.SubscriptionActivated,
        events.SubscriptionPlanChanged,
        events.SubscriptionCancelScheduled,
        events.SubscriptionResumed,
        events.SubscriptionCanceled,
        events.EntitlementsChanged,
    )
)


def events_to_publish(
    account: BillingAccount,
    *,
    causation_id: str,
    clock: Clock,
    stripe_created: datetime | None = None,
) -> list[IntegrationEvent]:
    """Pull what the account recorded and keep the messages this service owns."""
    recorded = account.pull_events()
    metrics.count_recorded(recorded)
    messages = to_integration_events(
        recorded,
        state=account.snapshot(),
        source=SOURCE,
        causation_id=causation_id,
        clock=clock,
        stripe_created=stripe_created,
    )
    return [message for message in messages if _worth_publishing(message)]


def _worth_publishing(message: IntegrationEvent) -> bool:
    """A plan "change" of a subscription that grants no access (``incomplete`` ...)
    changes nothing for the product: its activation, later, is the news."""
    if message.type not in PUBLISHED_TYPES:
        return False
    if isinstance(message, events.SubscriptionPlanChanged):
        immediate = message.effective is PlanChangeEffective.NOW
        return not immediate or message.status.has_paid_access
    return True
