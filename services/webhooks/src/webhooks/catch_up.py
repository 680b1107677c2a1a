"""Catch-up: store the Stripe events that never arrived (an endpoint misconfigured or
down longer than Stripe retries), through ingest's once-only insert.

Stripe lists an account's events of the last 30 days (``GET /v1/events``, newest
first); ``undelivered`` asks only for those whose delivery did not succeed to every
endpoint (``delivery_success=false``). Each listed event of a type the webhook
endpoint subscribes to (``HANDLED_TYPES``) is stored exactly as a delivery would
store it (``INSERT ... ON CONFLICT (event_id) DO NOTHING``): one already stored is a
duplicate and nothing more, a new one is processed by the worker like any other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

import structlog
from billing_domain.errors import RuleViolated

from webhooks.ports import Clock, StripeEventStore
from webhooks.stripe_event import MalformedEvent, new_stripe_event
from webhooks.translate import HANDLED_TYPES
from webhooks.use_cases.ingest import record_stripe_event

log = structlog.get_logger("webhooks.catch_up")

STRIPE_EVENTS_WINDOW = timedelta(days=30)


class StripeEventFeed(Protocol):
    def created_since(self, created_gte: int, *, undelivered: bool) -> AsyncIterator[bytes]:
        """Each event created at or after ``created_gte`` (unix time), as a JSON body."""
        ...


@dataclass(kw_only=True)
class CatchUpReport:
    seen: int = 0  # listed events of the handled types
    new: list[str] = field(default_factory=list)  # event ids stored by this run
    other_types: int = 0  # listed, not subscribed to: left alone
    malformed: int = 0


async def catch_up(
    feed: StripeEventFeed,
    store: StripeEventStore,
    clock: Clock,
    *,
    since: timedelta,
    undelivered: bool = False,
) -> CatchUpReport:
    if not timedelta(0) < since <= STRIPE_EVENTS_WINDOW:
        raise RuleViolated(
            "catch-up looks back more than 0 and at most 30 days (Stripe lists 30 days of events)",
            code="catch_up_window",
        )
    report = CatchUpReport()
    created_gte = int((clock.now() - since).timestamp())
    async for payload in feed.created_since(created_gte, undelivered=undelivered):
        try:
            event = new_stripe_event(payload)
        except MalformedEvent as exc:
            report.malformed += 1
            log.warning("webhooks.catch_up.malformed", error=exc.message)
            continue
        if event.event_type not in HANDLED_TYPES:
            report.other_types += 1
            continue
        report.seen += 1
        if not await record_stripe_event(event, store, clock):
            report.new.append(event.event_id)
    log.info(
        "webhooks.catch_up.done",
        seen=report.seen,
        new=len(report.new),
        undelivered=undelivered,
        since_seconds=int(since.total_seconds()),
    )
    return report
