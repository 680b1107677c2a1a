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

from billing_domain.clock import Clock
from billing_domain.notification_events import NotificationSent
from billing_domain.subscription import BillingAccount
from billing_platform.messaging.billing_events import billing_event_handler as consume
from billing_platform.messaging.billing_events import decode_billing_event
from billing_platform.messaging.message import (
    MessageHandler,
    consumer_queue,
)

from subscriptions.commands import ProjectBillingEvent
from subscriptions.ports import PaymentGateway, SubscriptionsUnitOfWork
from subscriptions.projection import project_billing_event
from subscriptions.trials import awaits_resume, resume_if_payable

QUEUE = "subscriptions.billing-events"
BINDING_KEYS = [
    "billing.checkout.completed",
    "billing.subscription.updated",
    "billing.subscription.trial_will_end",
    "billing.invoice.#",
    "billing.payment_method.#",
    "billing.customer.updated",
    "billing.notification.sent",
]
PREFETCH = 16
DELIVERY_LIMIT = 5


def queue_name(exchange: str) -> str:
    """The production queue on the production exchange; one per exchange otherwise,
    so test runs with their own exchanges never compete for each other's messages."""
    return consumer_queue(QUEUE, exchange)


decode = decode_billing_event
"""The command for a message (``PoisonMessage`` if it can never be processed); ``None``
for a type this service does not know."""


async def project_and_resume(
    cmd: ProjectBillingEvent,
    uow_factory: Callable[[], SubscriptionsUnitOfWork],
    gateway: PaymentGateway,
    clock: Clock,
) -> None:
    """Project the event; then a subscription paused at the end of a trial without a card,
    now with one, is resumed at Stripe (idempotent per event; a redelivery retries it).
    Asked only when it may be due: not after an event that left a committed account that
    does not await it (a second locked transaction for every event cost the projection
    most of its headroom in make bench), nor after an email's record."""
    seen: list[BillingAccount] = []
    await project_billing_event(cmd, uow_factory(), gateway, clock, projected=seen.append)
    if isinstance(cmd.event, NotificationSent) or (seen and not awaits_resume(seen[-1])):
        return
    await resume_if_payable(
        cmd.event.tenant_id, uow_factory, gateway, clock, causation_id=cmd.event.causation_id
    )


def billing_event_handler(
    uow_factory: Callable[[], SubscriptionsUnitOfWork], gateway: PaymentGateway, clock: Clock
) -> MessageHandler:
    async def project(cmd: ProjectBillingEvent) -> None:
        await project_and_resume(cmd, uow_factory, gateway, clock)

    return consume("subscriptions", project)
