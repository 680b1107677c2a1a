"""Consuming billing events: decode, dedupe through the inbox, apply in one transaction."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from billing_domain.envelope import ROUTING_PREFIX
from billing_domain.errors import RuleViolated
from billing_domain.events import CheckoutCompleted, event_from_envelope
from billing_platform.messaging.inbox import idempotent_handler
from billing_platform.messaging.message import (
    IncomingMessage,
    MessageHandler,
    PoisonMessage,
    consumer_queue,
)

from checkout import metrics
from checkout.adapters.postgres import PgCheckoutUnitOfWork
from checkout.projection import CONSUMED_TYPES, apply_event
from checkout.schema import SCHEMA

QUEUE = "checkout.billing-events"
BINDING_KEYS = [ROUTING_PREFIX + cls.type for cls in CONSUMED_TYPES]


def queue_name(exchange: str) -> str:
    """``checkout.billing-events``; on another exchange (tests, staging) a queue of its own."""
    return consumer_queue(QUEUE, exchange)


async def _apply(uow: PgCheckoutUnitOfWork, message: IncomingMessage) -> None:
    try:
        event = event_from_envelope(message.json())
    except (ValueError, RuleViolated) as exc:
        raise PoisonMessage(f"undecodable billing event: {exc}") from exc
    with structlog.contextvars.bound_contextvars(tenant_id=event.tenant_id):
        await apply_event(uow, event)
    if isinstance(event, CheckoutCompleted):  # once per message: the inbox dropped copies
        metrics.CHECKOUT_SESSIONS_COMPLETED.labels(event.plan.value).inc()


def build_handler(uow_factory: Callable[[], PgCheckoutUnitOfWork]) -> MessageHandler:
    return idempotent_handler(uow_factory, SCHEMA, _apply)
