"""The consumer of ``billing.events``: decode, then fold into the projection.

Queue ``subscriptions.billing-events`` (durable quorum queue with a dead-letter
queue, declared by the platform bus), bound to the types docs/events.md lists.
A body that can never be processed (not JSON, missing or ill-typed fields, an
unsupported ``schema_version``) is dead-lettered at once; a type this service
does not know is acknowledged and ignored (the catalogue grows by adding).
Anything else that fails is retried by the broker, then dead-lettered.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from billing_domain.clock import Clock
from billing_domain.errors import RuleViolated
from billing_domain.events import event_from_envelope
from billing_platform.messaging.message import (
    IncomingMessage,
    MessageHandler,
    PoisonMessage,
    consumer_queue,
)

from subscriptions.commands import ProjectBillingEvent
from subscriptions.ports import PaymentGateway, SubscriptionsUnitOfWork
from subscriptions.projection import project_billing_event

log = structlog.get_logger("subscriptions.consumer")

QUEUE = "subscriptions.billing-events"
BINDING_KEYS = [
    "billing.checkout.completed",
    "billing.subscription.updated",
    "billing.subscription.trial_will_end",
    "billing.invoice.#",
]
PREFETCH = 16
DELIVERY_LIMIT = 5
MAX_TENANT_ID = 200


def queue_name(exchange: str) -> str:
    """The production queue on the production exchange; one per exchange otherwise,
    so test runs with their own exchanges never compete for each other's messages."""
    return consumer_queue(QUEUE, exchange)


def decode(message: IncomingMessage) -> ProjectBillingEvent | None:
    """The command for a message; ``None`` for a type this service does not know."""
    try:
        body = message.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise PoisonMessage(f"not JSON: {exc}") from exc
    try:
        event = event_from_envelope(body)
    except RuleViolated as exc:
        if exc.code == "unknown_event_type":
            return None
        raise PoisonMessage(f"{exc.code}: {exc.message}") from exc
    if not 0 < len(event.tenant_id) <= MAX_TENANT_ID:
        raise PoisonMessage("tenant_id must be 1-200 characters")
    return ProjectBillingEvent(
        message_id=message.message_id, routing_key=message.routing_key, event=event
    )


def billing_event_handler(
    uow_factory: Callable[[], SubscriptionsUnitOfWork], gateway: PaymentGateway, clock: Clock
) -> MessageHandler:
    async def handle(message: IncomingMessage) -> None:
        cmd = decode(message)
        if cmd is None:
            log.warning(
                "subscriptions.event.unknown_type",
                message_id=message.message_id,
                routing_key=message.routing_key,
            )
            return
        await project_billing_event(cmd, uow_factory(), gateway, clock)

    return handle
