"""The consumer of ``billing.events``: decode, then fold into the notifications projection.

Queue ``notifications.billing-events`` (durable quorum queue with a dead-letter queue and
the slow lane, declared by the platform bus), bound to the types ``projection`` folds.
Each message is applied once (inbox, same transaction); a mail it queued is sent by the
sender loop after the commit, never on this path.
"""

from __future__ import annotations

from collections.abc import Callable

from billing_domain.clock import Clock
from billing_domain.envelope import ROUTING_PREFIX
from billing_platform.messaging.billing_events import ConsumedEvent, decode_billing_event
from billing_platform.messaging.billing_events import billing_event_handler as consume
from billing_platform.messaging.message import MessageHandler, consumer_queue

from notifications.ports import UnitOfWorkFactory
from notifications.projection import CONSUMED_TYPES, project_billing_event

QUEUE = "notifications.billing-events"
BINDING_KEYS = [ROUTING_PREFIX + cls.type for cls in CONSUMED_TYPES]
PREFETCH = 16
DELIVERY_LIMIT = 5

decode = decode_billing_event


def queue_name(exchange: str) -> str:
    """``notifications.billing-events``; on another exchange a queue of its own."""
    return consumer_queue(QUEUE, exchange)


def billing_event_handler(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    renewal_intervals: frozenset[str],
    wake_sender: Callable[[], None],
) -> MessageHandler:
    async def project(cmd: ConsumedEvent) -> None:
        if await project_billing_event(cmd, uow_factory(), clock, renewal_intervals):
            wake_sender()

    return consume("notifications", project)
