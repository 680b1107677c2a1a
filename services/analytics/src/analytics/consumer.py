"""The consumer of ``billing.events``: decode, then fold into the revenue ledger.

Queue ``analytics.billing-events`` (durable quorum queue with a dead-letter queue and
the platform's retry lane), bound to the types docs/events.md lists for analytics.
``decode`` is the platform's: a body that can never be processed is dead-lettered at
once, a type the catalogue does not know is acknowledged and ignored. Each message is
applied once (``projection.project_billing_event``: inbox, same transaction).
"""

from __future__ import annotations

from collections.abc import Callable

from billing_domain.envelope import ROUTING_PREFIX
from billing_platform.messaging.billing_events import ConsumedEvent, decode_billing_event
from billing_platform.messaging.billing_events import billing_event_handler as consume
from billing_platform.messaging.message import MessageHandler, consumer_queue

from analytics.ports import UnitOfWork
from analytics.projection import CONSUMED_TYPES, project_billing_event

QUEUE = "analytics.billing-events"
BINDING_KEYS = [ROUTING_PREFIX + cls.type for cls in CONSUMED_TYPES]
PREFETCH = 16
DELIVERY_LIMIT = 5

decode = decode_billing_event
"""The command for a message (``PoisonMessage`` if it can never be processed); ``None``
for a type this service does not know."""


def queue_name(exchange: str) -> str:
    """``analytics.billing-events``; on another exchange (tests, staging) a queue of its own."""
    return consumer_queue(QUEUE, exchange)


def billing_event_handler(uow_factory: Callable[[], UnitOfWork]) -> MessageHandler:
    async def project(cmd: ConsumedEvent) -> None:
        await project_billing_event(cmd, uow_factory())

    return consume("analytics", project)
