"""Who publishes each billing event type: one type, one publisher (docs/events.md).

Consumers accept a type only from this service (``billing_platform.messaging``
checks the envelope's ``source`` and routing key against it); RabbitMQ's topic
permissions (deploy/rabbitmq/users.sh) let each service's user publish only its
own routing keys, which is what binds the self-declared ``source`` to a real
identity. A new type in ``event_catalogue.CATALOGUE`` (or ``payment_events.PAYMENT_CATALOGUE``)
must be listed here (a test says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CHECKOUT = "checkout"
SUBSCRIPTIONS = "subscriptions"
WEBHOOKS = "webhooks"
NOTIFICATIONS = "notifications"

PUBLISHED: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        CHECKOUT: ("checkout.session_created", "customer.created", "portal.session_created"),
        SUBSCRIPTIONS: (
            "subscription.activated",
            "subscription.plan_changed",
            "subscription.cancel_scheduled",
            "subscription.resumed",
            "subscription.canceled",
            "subscription.trial_extended",
            "payment.reminder_requested",
            "entitlements.changed",
        ),
        WEBHOOKS: (
            "checkout.completed",
            "checkout.async_payment_failed",
            "checkout.session_expired",
            "subscription.updated",
            "subscription.trial_will_end",
            "invoice.paid",
            "invoice.payment_failed",
            "invoice.payment_action_required",
            "invoice.voided",
            "invoice.marked_uncollectible",
            "payment_method.attached",
            "payment_method.updated",
            "payment_method.detached",
            "invoice.created",
            "invoice.finalized",
            "invoice.updated",
            "customer.updated",
            "invoice.upcoming",
        ),
        NOTIFICATIONS: ("notification.sent",),
    }
)
"""Event types by publishing service."""

PUBLISHER: Mapping[str, str] = MappingProxyType(
    {event_type: service for service, types in PUBLISHED.items() for event_type in types}
)
"""The publishing service of each event type."""


def publisher_of(event_type: str) -> str | None:
    """The one service that publishes ``event_type``; ``None`` for a type we do not know."""
    return PUBLISHER.get(event_type)
