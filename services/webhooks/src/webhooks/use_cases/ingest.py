"""Ingest: store a verified Stripe event once, then answer; nothing else on this path.

The store is one atomic statement (``INSERT ... ON CONFLICT DO NOTHING``), so no
unit of work is needed: when ``add`` returns, the event is durable.
"""

from __future__ import annotations

from webhooks.ports import Clock, NewStripeEvent, StripeEventStore


async def record_stripe_event(event: NewStripeEvent, store: StripeEventStore, clock: Clock) -> bool:
    """Store the event; True when it was already stored (a redelivery)."""
    return not await store.add(event, clock.now())
