"""Ingest: store a verified Stripe event once, then answer; nothing else on this path.

The store is one atomic statement (``INSERT ... ON CONFLICT DO NOTHING``), so no
unit of work is needed: when ``add`` returns, the event is durable.

An event of another Stripe API version than the one we pin (an endpoint created
without it, deploy/README.md) is stored and processed all the same (the log keeps
its ``api_version``; translation reads the older shapes it knows), and counted, so
that the endpoint gets recreated.
"""

from __future__ import annotations

import re

import structlog
from billing_platform.stripe_gateway import STRIPE_API_VERSION

from webhooks import metrics
from webhooks.ports import Clock, NewStripeEvent, StripeEventStore

log = structlog.get_logger("webhooks.ingest")
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z]{1,20})?")


async def record_stripe_event(event: NewStripeEvent, store: StripeEventStore, clock: Clock) -> bool:
    """Store the event; True when it was already stored (a redelivery)."""
    new = await store.add(event, clock.now())
    if new and event.api_version != STRIPE_API_VERSION:
        version = version_label(event.api_version)
        log.warning(
            "webhooks.event.api_version_mismatch",
            stripe_event_id=event.event_id,
            event_type=event.event_type,
            api_version=version,
            expected_api_version=STRIPE_API_VERSION,
        )
        metrics.API_VERSION_MISMATCH.labels(version).inc()
    return not new


def version_label(api_version: str | None) -> str:
    """The event's version as a label: a Stripe version string, else ``none``/``other``
    (a label value never carries arbitrary text)."""
    if api_version is None:
        return "none"
    return api_version if _VERSION.fullmatch(api_version) else "other"
