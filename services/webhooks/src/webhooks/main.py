"""Application factory of the webhooks service (no work at import time)."""

from __future__ import annotations

from billing_domain.clock import Clock
from billing_platform.http.app import create_app as create_platform_app
from billing_platform.messaging.message import MessageBus
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

from webhooks import __doc__ as description
from webhooks import api, operator_api
from webhooks.bootstrap import lifespan_for
from webhooks.ports import StripeReader


def create_app(
    settings: BillingSettings,
    *,
    bus: MessageBus | None = None,
    clock: Clock | None = None,
    stripe: StripeReader | None = None,
) -> FastAPI:
    return create_platform_app(
        service="webhooks",
        settings=settings,
        routers=[api.router, operator_api.router],
        lifespan=lifespan_for(settings, bus, clock=clock, stripe=stripe),
        description=description or "",
        # The ingest route answers 413 over 1 MiB itself (counted, logged); the
        # platform's cap is the backstop for every other path.
        max_body_bytes=2 * api.MAX_BODY_BYTES,
    )
