"""Application factory of the notifications service (no work at import time)."""

from __future__ import annotations

from billing_domain.clock import Clock
from billing_platform.http.app import create_app as create_platform_app
from billing_platform.messaging.message import MessageBus
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

from notifications import __doc__ as description
from notifications.api import router
from notifications.bootstrap import lifespan_for
from notifications.ports import MailTransport


def create_app(
    settings: BillingSettings,
    *,
    bus: MessageBus | None = None,
    transport: MailTransport | None = None,
    clock: Clock | None = None,
    run_sender: bool = True,
) -> FastAPI:
    return create_platform_app(
        service="notifications",
        settings=settings,
        routers=[router],
        lifespan=lifespan_for(
            settings, bus, transport=transport, clock=clock, run_sender=run_sender
        ),
        description=description or "",
    )
