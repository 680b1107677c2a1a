"""Application factory of the subscriptions service (no work at import time)."""

from __future__ import annotations

from billing_domain.clock import Clock
from billing_platform.http.app import create_app as create_platform_app
from billing_platform.messaging.message import MessageBus
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

from subscriptions import __doc__ as description
from subscriptions.account_listing import router as listing_router
from subscriptions.api import router
from subscriptions.bootstrap import lifespan_for
from subscriptions.operator_api import router as operator_router
from subscriptions.plan_api import router as plan_router
from subscriptions.ports import PaymentGateway
from subscriptions.self_service.api import router as self_service_router
from subscriptions.trial_api import router as trial_router


def create_app(
    settings: BillingSettings,
    *,
    bus: MessageBus | None = None,
    gateway: PaymentGateway | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """``gateway`` and ``clock`` replace Stripe and the wall clock (tests, ``billing dev``)."""
    return create_platform_app(
        service="subscriptions",
        settings=settings,
        routers=[
            router,
            plan_router,
            self_service_router,
            trial_router,
            operator_router,
            listing_router,
        ],
        lifespan=lifespan_for(settings, bus, gateway=gateway, clock=clock),
        description=description or "",
    )
