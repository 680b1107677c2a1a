"""Ingest: store a verified Stripe event once, then answer; nothing else on this path."""

from __future__ import annotations

from webhooks.ports import Clock, NewStripeEvent, UnitOfWork


async def record_stripe_event(event: NewStripeEvent, uow: UnitOfWork, clock: Clock) -> bool:
    """Store the event (``ON CONFLICT DO NOTHING``); True when it was already stored."""
    async with uow:
        created = await uow.events.add(event, clock.now())
        await uow.commit()
    return not created
