"""Consumers accept a billing event only from its one publisher (issue 15 item 6).

Before a consumer's handler sees a message, its envelope is checked against the
domain's catalogue of publishers (``billing_domain.event_publishers``):

- the routing key must be ``billing.<type>`` of the body's own ``type`` (else a
  publisher allowed one routing key could smuggle another type under it);
- ``source`` must be the service that publishes that type.

A message failing either is dead-lettered at once (``ForeignPublisher`` is a
``PoisonMessage``: rejected without requeue, so it lands in the queue's DLQ), logged
(``bus.message.foreign_publisher``) and counted in
``billing_events_rejected_total{queue, reason}`` (``foreign_source``,
``routing_key_mismatch``). A type outside the catalogue, or a body that is not a
JSON object, is left to the consumer (which ignores or dead-letters it).

``source`` is self-declared: this check stops a service (or a tool) publishing a
type that is not its own under its own name. What stops it from writing another
service's name is the broker: each service's RabbitMQ user may publish only its own
routing keys (topic permissions, deploy/rabbitmq/users.sh), and the routing key must
match the type.
"""

from __future__ import annotations

import structlog
from billing_domain.envelope import ROUTING_PREFIX
from billing_domain.event_publishers import publisher_of
from prometheus_client import Counter

from billing_platform.messaging.message import IncomingMessage, MessageHandler, PoisonMessage

log = structlog.get_logger("billing_platform.bus")

REJECTED = Counter(
    "billing_events_rejected_total",
    "Billing events dead-lettered before their consumer's handler, by queue and reason "
    "(foreign_source, routing_key_mismatch).",
    ["queue", "reason"],
)


class ForeignPublisher(PoisonMessage):
    """The envelope does not come from the type's one publisher."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


def check_publisher(message: IncomingMessage) -> None:
    """Raise ``ForeignPublisher`` when the message is not from its type's publisher."""
    try:
        body = message.json()
    except (ValueError, UnicodeDecodeError):
        return  # the consumer's own decoding dead-letters it
    if not isinstance(body, dict):
        return
    event_type = body.get("type")
    if not isinstance(event_type, str):
        return
    expected = publisher_of(event_type)
    if expected is None:
        return
    if message.routing_key != ROUTING_PREFIX + event_type:
        raise ForeignPublisher(
            "routing_key_mismatch",
            f"a {event_type} event under routing key {message.routing_key[:200]!r}",
        )
    source = body.get("source")
    if source != expected:
        shown = source[:64] if isinstance(source, str) else type(source).__name__
        raise ForeignPublisher(
            "foreign_source", f"{event_type} is published by {expected}, not {shown!r}"
        )


def publisher_checked(queue: str, handler: MessageHandler) -> MessageHandler:
    """``handler`` behind ``check_publisher``: what every bus subscription runs."""

    async def handle(message: IncomingMessage) -> None:
        try:
            check_publisher(message)
        except ForeignPublisher as exc:
            REJECTED.labels(queue, exc.reason).inc()
            log.error(
                "bus.message.foreign_publisher",
                queue=queue,
                message_id=message.message_id,
                routing_key=message.routing_key,
                reason=exc.reason,
                error=str(exc),
            )
            raise
        await handler(message)

    return handle
