"""Integration events: the catalogue, the envelope, and decoding by type.

Publish: ``event.to_envelope()`` as the JSON body, ``event.routing_key`` as the
routing key, ``str(event.id)`` as the AMQP ``message_id``.
Consume: ``event_from_envelope(json.loads(body))``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from billing_domain.customer_events import CustomerUpdated
from billing_domain.entitlement_events import ENTITLEMENT_CATALOGUE, EntitlementsChanged
from billing_domain.envelope import ROUTING_PREFIX, IntegrationEvent, new_event
from billing_domain.errors import RuleViolated
from billing_domain.event_catalogue import (
    CATALOGUE,
    CheckoutAsyncPaymentFailed,
    CheckoutCompleted,
    CheckoutSessionCreated,
    CheckoutSessionExpired,
    CustomerCreated,
    InvoiceEvent,
    InvoiceMarkedUncollectible,
    InvoicePaid,
    InvoicePaymentActionRequired,
    InvoicePaymentFailed,
    InvoiceVoided,
    SubscriptionActivated,
    SubscriptionCanceled,
    SubscriptionCancelScheduled,
    SubscriptionEvent,
    SubscriptionPlanChanged,
    SubscriptionResumed,
    SubscriptionTrialWillEnd,
    SubscriptionUpdated,
    snapshot_data,
)
from billing_domain.notification_events import NOTIFICATION_CATALOGUE, NotificationSent
from billing_domain.operator_events import OPERATOR_CATALOGUE
from billing_domain.payment_events import PAYMENT_CATALOGUE
from billing_domain.renewal_events import RENEWAL_CATALOGUE, InvoiceUpcoming
from billing_domain.stripe_derived import StripeDerivedEvent
from billing_domain.trial_events import SubscriptionTrialExtended

EVENT_TYPES: Mapping[str, type[IntegrationEvent]] = MappingProxyType(
    {
        cls.type: cls
        for cls in (
            *CATALOGUE,
            *PAYMENT_CATALOGUE,
            *OPERATOR_CATALOGUE,
            *NOTIFICATION_CATALOGUE,
            *ENTITLEMENT_CATALOGUE,
            *RENEWAL_CATALOGUE,
        )
    }
)


def event_from_envelope(body: Mapping[str, object]) -> IntegrationEvent:
    """Decode a message body; ``RuleViolated`` for an unknown type, an unsupported
    ``schema_version``, or a missing or ill-typed field."""
    if not isinstance(body, Mapping):
        raise RuleViolated("an event body must be a JSON object", code="bad_event")
    event_type = body.get("type")
    cls = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if cls is None:
        raise RuleViolated(f"unknown event type {event_type!r}", code="unknown_event_type")
    return cls.from_envelope(body)


__all__ = [
    "EVENT_TYPES",
    "ROUTING_PREFIX",
    "CheckoutAsyncPaymentFailed",
    "CheckoutCompleted",
    "CheckoutSessionCreated",
    "CheckoutSessionExpired",
    "CustomerCreated",
    "CustomerUpdated",
    "EntitlementsChanged",
    "IntegrationEvent",
    "InvoiceEvent",
    "InvoiceMarkedUncollectible",
    "InvoicePaid",
    "InvoicePaymentActionRequired",
    "InvoicePaymentFailed",
    "InvoiceUpcoming",
    "InvoiceVoided",
    "NotificationSent",
    "StripeDerivedEvent",
    "SubscriptionActivated",
    "SubscriptionCancelScheduled",
    "SubscriptionCanceled",
    "SubscriptionEvent",
    "SubscriptionPlanChanged",
    "SubscriptionResumed",
    "SubscriptionTrialExtended",
    "SubscriptionTrialWillEnd",
    "SubscriptionUpdated",
    "event_from_envelope",
    "new_event",
    "snapshot_data",
]
