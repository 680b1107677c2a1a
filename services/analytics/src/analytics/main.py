"""Application factory of the analytics service (no work at import time)."""

from __future__ import annotations

from billing_platform.http.app import create_app as create_platform_app
from billing_platform.messaging.message import MessageBus
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

from analytics import __doc__ as description
from analytics.api import router
from analytics.bootstrap import lifespan_for


def create_app(settings: BillingSettings, *, bus: MessageBus | None = None) -> FastAPI:
    return create_platform_app(
        service="analytics",
        settings=settings,
        routers=[router],
        lifespan=lifespan_for(settings, bus),
        description=description or "",
    )
