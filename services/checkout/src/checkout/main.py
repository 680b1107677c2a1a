"""Application factory of the checkout service (no work at import time)."""

from __future__ import annotations

from billing_platform.http.app import create_app as create_platform_app
from billing_platform.messaging.message import MessageBus
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

from checkout import __doc__ as description
from checkout.api import router
from checkout.bootstrap import lifespan_for
from checkout.config import CheckoutLimits


def create_app(
    settings: BillingSettings,
    *,
    bus: MessageBus | None = None,
    limits: CheckoutLimits | None = None,
) -> FastAPI:
    return create_platform_app(
        service="checkout",
        settings=settings,
        routers=[router],
        lifespan=lifespan_for(settings, bus, limits),
        description=description or "",
    )
