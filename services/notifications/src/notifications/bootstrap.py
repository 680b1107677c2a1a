"""The one place that builds this service's adapters and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import structlog
from billing_domain.clock import Clock
from billing_platform.clock import SystemClock
from billing_platform.http.app import Lifespan
from billing_platform.http.context import install_context
from billing_platform.messaging.message import MessageBus
from billing_platform.runtime import service_infrastructure
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

from notifications.adapters.postgres import PgNotificationsUnitOfWork
from notifications.adapters.smtp import SmtpMailTransport, UnconfiguredMailTransport
from notifications.config import NotificationsConfig
from notifications.consumer import (
    BINDING_KEYS,
    DELIVERY_LIMIT,
    PREFETCH,
    billing_event_handler,
    queue_name,
)
from notifications.context import NotificationsContext
from notifications.ports import MailTransport
from notifications.schema import SCHEMA
from notifications.sender import MailSender
from notifications.use_cases.sending import SenderDeps

log = structlog.get_logger("notifications.bootstrap")


def build_transport(config: NotificationsConfig) -> MailTransport:
    if config.smtp is None:
        log.warning("notifications.smtp.not_configured")
        return UnconfiguredMailTransport()
    return SmtpMailTransport(config.smtp, sender=config.mail_from, reply_to=config.mail_reply_to)


def lifespan_for(
    settings: BillingSettings,
    bus: MessageBus | None = None,
    *,
    transport: MailTransport | None = None,
    clock: Clock | None = None,
    run_sender: bool = True,
) -> Lifespan:
    config = NotificationsConfig.from_settings(settings)
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_infrastructure(app, schema=SCHEMA, settings=settings, bus=bus) as infra:
            app.state.infrastructure = infra
            uow_factory = partial(
                PgNotificationsUnitOfWork, infra.pool, wake_relay=infra.relay.wake
            )
            sender = MailSender(
                SenderDeps(
                    uow_factory=uow_factory,
                    transport=transport or build_transport(config),
                    clock=clock,
                    config=config,
                )
            )
            app.state.mail_sender = sender
            install_context(
                app, NotificationsContext(uow_factory=uow_factory, clock=clock, config=config)
            )
            await infra.bus.subscribe(
                queue_name(settings.billing_exchange),
                BINDING_KEYS,
                billing_event_handler(uow_factory, clock, config.renewal_intervals, sender.wake),
                prefetch=PREFETCH,
                delivery_limit=DELIVERY_LIMIT,
            )
            stop = asyncio.Event()
            task = (
                asyncio.create_task(sender.run(stop), name="notifications-sender")
                if run_sender
                else None
            )
            try:
                yield
            finally:
                stop.set()
                if task is not None:
                    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                        await asyncio.wait_for(task, 10)

    return lifespan
