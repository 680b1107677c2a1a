"""Operators: list the log, replay failed or parked events."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from billing_domain.errors import Conflict, NotFound, RuleViolated
from billing_domain.webhook_log import WebhookEventStatus

from webhooks.ports import Clock, EventLogFilter, EventLogPage, StoredEvent, UnitOfWork

log = structlog.get_logger("webhooks.operations")


async def list_events(query: EventLogFilter, uow: UnitOfWork) -> EventLogPage:
    async with uow:
        return await uow.events.list(query)


async def get_event(event_id: str, uow: UnitOfWork) -> StoredEvent:
    """One event as it stands (an operator follows a replay until it is processed)."""
    async with uow:
        stored = await uow.events.get(event_id)
    if stored is None:
        raise NotFound(f"no webhook event {event_id}", code="event_not_found")
    return stored


async def replay_event(event_id: str, uow: UnitOfWork, clock: Clock, *, actor: str) -> StoredEvent:
    """Send a failed or parked event back to the worker (409 for any other status),
    recording who did (``actor``) in the same transaction."""
    async with uow:
        stored = await uow.events.get_for_update(event_id)
        if stored is None:
            raise NotFound(f"no webhook event {event_id}", code="event_not_found")
        previous = stored.record.status
        stored.record.replay(clock.now())
        await uow.events.save(stored)
        await uow.events.record_replay(event_id, actor=actor, previous_status=previous)
        await uow.commit()
    log.info("webhooks.event.replayed", stripe_event_id=event_id, actor=actor)
    return stored


async def replay_by_status(
    status: WebhookEventStatus,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    *,
    actor: str,
    limit: int = 1000,
) -> list[str]:
    """Replay up to ``limit`` events in ``status`` (failed or parked); their ids."""
    if not status.is_replayable:
        raise RuleViolated(
            f"{status.value} events are not replayable (failed or parked are)",
            code="not_replayable",
        )
    async with uow_factory() as uow:
        ids = list(await uow.events.replayable_ids(status, limit))
    replayed = []
    for event_id in ids:
        try:
            await replay_event(event_id, uow_factory(), clock, actor=actor)
        except Conflict:
            continue  # picked up by someone else since we listed it
        replayed.append(event_id)
    return replayed
