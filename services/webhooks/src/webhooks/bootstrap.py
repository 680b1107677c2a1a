"""The one place that builds the webhooks service's adapters and wires them together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from billing_domain.clock import Clock
from billing_domain.webhook_log import RetryPolicy
from billing_platform.clock import SystemClock
from billing_platform.http.app import Lifespan
from billing_platform.http.context import install_context
from billing_platform.messaging.message import MessageBus
from billing_platform.runtime import service_infrastructure
from billing_platform.settings import BillingSettings
from billing_platform.stripe_gateway import StripeCaller
from billing_platform.stripe_reading import PriceCatalog
from billing_platform.wakeup import PgWakeup
from fastapi import FastAPI

from webhooks.adapters.postgres import (
    PgEventClaims,
    PgEventLogMonitor,
    PgStripeEventStore,
    PgWebhooksUnitOfWork,
)
from webhooks.adapters.stripe import StripeObjectReader
from webhooks.context import WebhooksContext
from webhooks.event_trust import EventTrust
from webhooks.ports import StripeReader
from webhooks.schema import EVENTS_CHANNEL, SCHEMA
from webhooks.use_cases.processing import ProcessingDeps
from webhooks.worker import EventWorker

log = structlog.get_logger("webhooks.bootstrap")


def lifespan_for(
    settings: BillingSettings,
    bus: MessageBus | None = None,
    *,
    clock: Clock | None = None,
    stripe: StripeReader | None = None,
) -> Lifespan:
    """``clock`` and ``stripe`` replace the real ones in tests (fakes through the ports)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.stripe_webhook_secret:
            log.error("webhooks.config.no_secret", hint="set STRIPE_WEBHOOK_SECRET")
        concurrency = settings.webhook_worker_concurrency
        async with service_infrastructure(
            app, schema=SCHEMA, settings=settings, bus=bus, background_connections=concurrency
        ) as infra:
            real_clock = clock or SystemClock()

            def uow_factory() -> PgWebhooksUnitOfWork:
                return PgWebhooksUnitOfWork(infra.pool, wake_relay=infra.relay.wake)

            wakeup = PgWakeup(infra.pool, EVENTS_CHANNEL)
            context = WebhooksContext(
                uow_factory=uow_factory,
                store=PgStripeEventStore(
                    infra.pool, on_stored=wakeup.poke, notify_payload=wakeup.token
                ),
                clock=real_clock,
                webhook_secrets=tuple(settings.stripe_webhook_secret),
            )
            install_context(app, context)
            if concurrency == 0:  # an ingest-only replica: other replicas process
                log.info("webhooks.worker.disabled")
                yield
                return
            own_pool = infra.background_pool
            deps = ProcessingDeps(
                uow_factory=lambda: PgWebhooksUnitOfWork(own_pool, wake_relay=infra.relay.wake),
                claims=PgEventClaims(own_pool),
                stripe=stripe or _stripe_reader(settings),
                plans=PriceCatalog(settings.price_ids(), settings.yearly_price_ids()),
                clock=real_clock,
                policy=retry_policy(settings),
                lease=timedelta(seconds=settings.webhook_lease_seconds),
                trust=EventTrust.for_key(settings.stripe_api_key, settings.stripe_connect_accounts),
            )
            worker = EventWorker(
                wakeup, PgEventLogMonitor(infra.pool), deps, concurrency=concurrency
            )
            stop = asyncio.Event()
            task = asyncio.create_task(worker.run(stop), name="webhooks-worker")
            try:
                yield
            finally:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(task, 10)

    return lifespan


def retry_policy(settings: BillingSettings) -> RetryPolicy:
    """The two lanes as configured (``billing_domain.webhook_log``)."""
    return RetryPolicy(
        max_attempts=settings.webhook_max_attempts,
        slow_max_seconds=settings.webhook_slow_retry_max_seconds,
        horizon=timedelta(hours=settings.webhook_retry_horizon_hours),
    )


def _stripe_reader(settings: BillingSettings) -> StripeReader:
    if not settings.stripe_api_key:
        return _NoStripe()
    return StripeObjectReader(StripeCaller.from_settings(settings))


class _NoStripe:
    """Without STRIPE_API_KEY, events that need a Stripe read fail (and retry) loudly."""

    async def _fail(self, what: str) -> dict[str, object]:
        from billing_domain.errors import GatewayUnavailable

        raise GatewayUnavailable(f"STRIPE_API_KEY is not set: cannot read {what}")

    async def customer(self, customer_id: str) -> dict[str, object]:
        return await self._fail(customer_id)

    async def subscription(self, subscription_id: str) -> dict[str, object]:
        return await self._fail(subscription_id)

    async def subscription_schedule(self, schedule_id: str) -> dict[str, object]:
        return await self._fail(schedule_id)

    async def invoice_payments(self, invoice_id: str) -> dict[str, object]:
        """Only what an attempt adds (its decline and card): without them the event
        still translates, so nothing fails for want of a key."""
        return {"object": "list", "data": [], "has_more": False}
