"""Processing: due events claimed in batches, translated into billing events.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` and stay locked while they are
handled, so several workers never handle the same event. The billing events go
to the outbox and the row becomes ``processed`` in the same transaction. A
failure undoes the handling and records the attempt instead: ``retrying`` with
backoff 2, 4, 8 s, then ``failed``. An event about a tenant nobody knows is
``parked`` (no retries) until an operator replays it, and so is one whose object
names a tenant other than the one its Stripe customer is already mapped to
(metadata never re-points a customer). An event of the other mode (``livemode``)
or of a Connect account we do not serve is ignored with its reason
(``event_trust``).

How a failure is undone depends on the batch: in a batch of several, each event
runs in its own savepoint, so one failing event never undoes another. A batch of
one (the usual case below a few hundred events/s) needs no savepoint, two round
trips fewer: a failure rolls the whole transaction back, and the attempt is
recorded in a second one, provided nobody else has handled the row meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from billing_domain.errors import GatewayUnavailable, NotFound, RuleViolated
from billing_domain.webhook_log import RetryPolicy, WebhookEventStatus

from webhooks import metrics, translate
from webhooks.event_trust import EventTrust
from webhooks.ports import Clock, StoredEvent, StripeReader, UnitOfWork
from webhooks.stripe_reading import PlanCatalog, metadata, text

log = structlog.get_logger("webhooks.processing")


@dataclass(frozen=True, kw_only=True)
class Processed:
    event_id: str
    event_type: str
    status: WebhookEventStatus
    tenant_id: str | None
    published: int
    error: str | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProcessingDeps:
    uow_factory: Callable[[], UnitOfWork]
    stripe: StripeReader
    plans: PlanCatalog
    clock: Clock
    policy: RetryPolicy
    trust: EventTrust = field(default_factory=EventTrust)


async def process_next_due(deps: ProcessingDeps) -> Processed | None:
    """Handle the oldest due event, if any; return what became of it."""
    done = await process_due(deps, limit=1)
    return done[0] if done else None


async def process_due(deps: ProcessingDeps, *, limit: int) -> list[Processed]:
    """Handle up to ``limit`` due events, oldest first, in ONE transaction.

    What a batch saves is a BEGIN, a COMMIT (a WAL flush), a claim and a pool round
    trip per event, which under load is most of an event's cost. The claimed rows
    stay locked until the commit.
    """
    done: list[tuple[Processed, Any]] = []
    failed_alone: _FailedAlone | None = None
    uow = deps.uow_factory()
    async with uow:
        claimed = await uow.events.claim_due(deps.clock.now(), limit)
        if not claimed:
            return []
        try:
            for stored in claimed:
                done.append(await _process_claimed(stored, uow, deps, alone=len(claimed) == 1))
        except _FailedAlone as failed:
            failed_alone = failed  # leaving the block uncommitted rolls the handling back
        else:
            await uow.commit()
    if failed_alone is not None:
        done = await _record_failure_alone(failed_alone, deps)
    for processed, bound in done:
        if processed.error is None:
            bound.info(
                "webhooks.event.processed",
                status=processed.status.value,
                note=processed.note,
                tenant_id=processed.tenant_id,
                published=processed.published,
            )
    return [processed for processed, _ in done]


class _FailedAlone(Exception):  # noqa: N818 - a signal, not an error report
    """The only event of its batch failed; its transaction must be rolled back."""

    def __init__(
        self, stored: StoredEvent, claimed_as: tuple[str, int], exc: Exception, bound: Any
    ) -> None:
        self.stored, self.claimed_as, self.exc, self.bound = stored, claimed_as, exc, bound


async def _process_claimed(
    stored: StoredEvent, uow: UnitOfWork, deps: ProcessingDeps, *, alone: bool
) -> tuple[Processed, Any]:
    record = stored.record
    claimed_as = (record.status.value, record.retry_count)
    bound = log.bind(
        stripe_event_id=record.event_id,
        event_type=record.event_type,
        attempt=record.retry_count + 1,
    )
    error: str | None = None
    published = 0
    try:
        if alone:
            published = await _handle(stored, uow, deps)
        else:
            async with uow.savepoint():
                published = await _handle(stored, uow, deps)
    except Exception as exc:
        if alone:
            raise _FailedAlone(stored, claimed_as, exc, bound) from exc
        error = _record_attempt_failure(stored, exc, deps, bound)
    await uow.events.save(stored, tenant_id=stored.tenant_id)
    return _outcome(stored, published, error), bound


async def _record_failure_alone(
    failed: _FailedAlone, deps: ProcessingDeps
) -> list[tuple[Processed, Any]]:
    """Record the failed attempt in a transaction of its own, unless someone else has
    handled the row since the rollback released it."""
    uow = deps.uow_factory()
    async with uow:
        fresh = await uow.events.get_for_update(failed.stored.record.event_id)
        if fresh is None or (fresh.record.status.value, fresh.record.retry_count) != (
            failed.claimed_as
        ):
            return []
        fresh.tenant_id = fresh.tenant_id or failed.stored.tenant_id
        error = _record_attempt_failure(fresh, failed.exc, deps, failed.bound)
        await uow.events.save(fresh, tenant_id=fresh.tenant_id)
        await uow.commit()
    return [(_outcome(fresh, 0, error), failed.bound)]


def _record_attempt_failure(
    stored: StoredEvent, exc: Exception, deps: ProcessingDeps, bound: Any
) -> str:
    record = stored.record
    error = f"{type(exc).__name__}: {exc}"
    record.mark_failed_attempt(error, deps.clock.now(), deps.policy)
    (bound.error if record.status is WebhookEventStatus.FAILED else bound.warning)(
        "webhooks.event.attempt_failed",
        status=record.status.value,
        retry_count=record.retry_count,
        next_attempt_at=record.next_attempt_at,
        error=error,
        exc_info=False if isinstance(exc, _EXPECTED_FAILURES) else exc,
    )
    return error


def _outcome(stored: StoredEvent, published: int, error: str | None) -> Processed:
    record = stored.record
    return Processed(
        event_id=record.event_id,
        event_type=record.event_type,
        status=record.status,
        tenant_id=stored.tenant_id,
        published=published,
        error=error,
        note=record.note,
    )


async def _handle(stored: StoredEvent, uow: UnitOfWork, deps: ProcessingDeps) -> int:
    body = stored.payload
    record, now = stored.record, deps.clock.now()
    refused = deps.trust.refusal(body)
    if refused is not None:
        reason, note = refused
        log.warning(
            "webhooks.event.untrusted",
            stripe_event_id=record.event_id,
            event_type=record.event_type,
            reason=reason,
        )
        metrics.UNTRUSTED.labels(reason).inc()
        record.mark_ignored(now, reason=note)
        return 0
    if body.get("type") not in translate.HANDLED_TYPES:
        record.mark_ignored(now)
        return 0
    if body["type"] == translate.CUSTOMER_DELETED:
        return await _retire_customer(stored, uow, now)
    try:
        tenant_id = await _resolve_tenant(body, uow, deps.stripe)
    except _CustomerClaimed as claimed:
        log.warning(
            "webhooks.event.customer_claimed",
            stripe_event_id=record.event_id,
            event_type=record.event_type,
            stripe_customer_id=claimed.customer,
            tenant_id=claimed.mapped,
            named_tenant_id=claimed.named,
        )
        record.mark_parked(claimed.note, now)
        return 0
    if tenant_id is None:
        customer = translate.customer_id(body)
        log.warning(
            "webhooks.event.parked",
            stripe_event_id=record.event_id,
            event_type=record.event_type,
            stripe_customer_id=customer,
        )
        record.mark_parked(f"parked: no tenant known for customer {customer}", now)
        return 0
    stored.tenant_id = tenant_id
    if body["type"] in translate.CUSTOMER_TYPES:
        record.mark_processed(now, note="customer linked to tenant")
        return 0
    needs = translate.lookups(body)
    subscription = await _maybe(deps.stripe.subscription, needs.subscription_id)
    schedule_id = needs.schedule_id
    if needs.schedule_of_subscription and subscription is not None:
        schedule_id = translate.schedule_id_of(subscription)
    schedule = await _maybe(deps.stripe.subscription_schedule, schedule_id)
    events = translate.translate(
        body,
        tenant_id=tenant_id,
        plans=deps.plans,
        now=now,
        schedule=schedule,
        subscription=subscription,
    )
    await uow.outbox.add_all(events)
    record.mark_processed(now, note=None if events else "no billing event")
    return len(events)


async def _retire_customer(stored: StoredEvent, uow: UnitOfWork, now: datetime) -> int:
    """``customer.deleted``: the customer -> tenant entry is retired (it never resolves
    again, and no later event re-links it); nothing is read from Stripe, nothing parks.
    The subscriptions Stripe cancels with the customer come as their own events."""
    customer = translate.customer_id(stored.payload)
    if customer is None:
        raise RuleViolated("customer.deleted without a customer id", code="malformed_customer")
    tenant = translate.tenant_hint(stored.payload) or await uow.customers.tenant_of(customer)
    await uow.customers.retire(customer, tenant)
    stored.tenant_id = tenant
    stored.record.mark_processed(now, note="customer deleted: no longer mapped to a tenant")
    return 0


async def _resolve_tenant(
    body: Mapping[str, Any], uow: UnitOfWork, stripe: StripeReader
) -> str | None:
    """The object's own tenant, else the customer map, else the customer's metadata.

    A customer already mapped to a tenant stays that tenant's: an object naming
    another one raises ``_CustomerClaimed`` (the event is parked for an operator).
    """
    customer = translate.customer_id(body)
    named = translate.tenant_hint(body)
    if named is not None:
        if customer is not None:
            mapped = await uow.customers.link(customer, named)
            if mapped != named:
                raise _CustomerClaimed(customer, mapped=mapped, named=named)
        return named
    if customer is None:
        return None
    known = await uow.customers.tenant_of(customer)
    if known is not None:
        return known
    try:
        found = text(metadata(await stripe.customer(customer)), "tenant_id")
    except NotFound:
        return None
    if found is not None:
        mapped = await uow.customers.link(customer, found)
        if mapped != found:
            raise _CustomerClaimed(customer, mapped=mapped, named=found)
    return found


class _CustomerClaimed(Exception):  # noqa: N818 - a signal, not an error report
    """The event names a tenant other than the one its customer is mapped to."""

    def __init__(self, customer: str, *, mapped: str, named: str) -> None:
        super().__init__(customer)
        self.customer, self.mapped, self.named = customer, mapped, named
        self.note = (
            f"parked: customer {customer} belongs to tenant {mapped[:64]}, "
            f"the event names tenant {named[:64]}; never re-pointed by metadata"
        )


async def _maybe(read: Callable[[str], Any], object_id: str | None) -> Mapping[str, Any] | None:
    if object_id is None:
        return None
    result: Mapping[str, Any] = await read(object_id)
    return result


_EXPECTED_FAILURES: tuple[type[Exception], ...] = (NotFound, GatewayUnavailable, RuleViolated)
