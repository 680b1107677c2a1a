"""The one place that builds this service's adapters and wires them together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from billing_platform.http.app import Lifespan
from billing_platform.messaging.message import MessageBus
from billing_platform.runtime import service_infrastructure
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

from checkout.schema import SCHEMA


def lifespan_for(settings: BillingSettings, bus: MessageBus | None = None) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_infrastructure(app, schema=SCHEMA, settings=settings, bus=bus) as infra:
            app.state.infrastructure = infra
            yield

    return lifespan
