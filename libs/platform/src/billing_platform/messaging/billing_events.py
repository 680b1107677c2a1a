"""Decoding a message of ``billing.events``: the one consumer style of every service.

A service's ``consumer.decode`` is ``decode_billing_event``: a body that can never be
processed (not JSON, missing or ill-typed fields, an unsupported ``schema_version``,
a tenant id that is empty or over 200 characters) raises ``PoisonMessage`` and is
dead-lettered at once; a type this platform does not know is ``None``, acknowledged
and ignored (the catalogue grows by adding). The handler then folds the
``ConsumedEvent`` into the service's projection, recording its message id in the
inbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from billing_domain.envelope import IntegrationEvent
from billing_domain.errors import RuleViolated
from billing_domain.events import event_from_envelope

from billing_platform.messaging.message import IncomingMessage, MessageHandler, PoisonMessage

MAX_TENANT_ID = 200


@dataclass(frozen=True, kw_only=True)
class ConsumedEvent:
    """One message of ``billing.events`` to fold into a projection."""

    message_id: str
    routing_key: str
    event: IntegrationEvent


def decode_billing_event(message: IncomingMessage) -> ConsumedEvent | None:
    """The event a message carries; ``None`` for a type the catalogue does not know."""
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
        raise PoisonMessage(f"tenant_id must be 1-{MAX_TENANT_ID} characters")
    return ConsumedEvent(
        message_id=message.message_id, routing_key=message.routing_key, event=event
    )


def billing_event_handler(
    service: str, project: Callable[[ConsumedEvent], Awaitable[object]]
) -> MessageHandler:
    """The handler a service subscribes: decode, then ``project(cmd)`` with the tenant
    bound to the log context; a type the catalogue does not know is logged and acked."""
    log = structlog.get_logger(f"{service}.consumer")

    async def handle(message: IncomingMessage) -> None:
        cmd = decode_billing_event(message)
        if cmd is None:
            log.warning(
                f"{service}.event.unknown_type",
                message_id=message.message_id,
                routing_key=message.routing_key,
            )
            return
        with structlog.contextvars.bound_contextvars(tenant_id=cmd.event.tenant_id):
            await project(cmd)

    return handle
