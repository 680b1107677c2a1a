"""Processing: due events leased in batches, translated into billing events.

A batch is **leased** in one committed statement (``EventClaims.claim``: the rows
carry this worker's id, a fresh claim token and ``lease_until``); what handling
will read from Stripe is read then, outside any transaction (``read_ahead``: no
row lock or transaction is ever held across a Stripe call); then ONE finishing
transaction writes, per event, its billing events to the outbox and its new
status, each write conditional on the row still carrying this claim's token. A
worker that stalled past its lease (SIGSTOP, a partition) finds its rows taken
over: its write changes nothing, its outbox rows are rolled back with it
(``webhooks.event.lease_lost``, ``billing_webhooks_lease_lost_total``), so a late
commit never applies an event twice. A worker that dies leaves leases that run
out: the rows are due again at ``lease_until``.

A failure undoes the handling and records the attempt with its class
(``billing_platform.failures``: transient or permanent): ``retrying`` on the fast
lane (2, 4, 8 s), then the slow lane for transient failures until the horizon,
else ``failed`` (``billing_domain.webhook_log``). An event about a tenant nobody
knows is ``parked`` (no retries) until an operator replays it, and so is one whose
object names a tenant other than the one its Stripe customer is already mapped to
(metadata never re-points a customer). An event of the other mode (``livemode``)
or of a Connect account we do not serve is ignored with its reason
(``event_trust``).

How a failure is undone depends on the batch: in a batch of several, each event
runs in its own savepoint, so one failing event (or one lost lease) never undoes
another. A batch of one (the usual case below a few hundred events/s) needs no
savepoint, two round trips fewer: a failure rolls the whole transaction back, and
the attempt is recorded in a second one, provided the lease is still this
worker's.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from billing_domain.errors import GatewayUnavailable, NotFound, RuleViolated
from billing_domain.webhook_log import FailureClass, RetryPolicy, WebhookEventStatus
from billing_platform.failures import failure_class
from billing_platform.stripe_reading import PriceCatalog, customer_tenant

from webhooks import metrics, translate
from webhooks.event_trust import EventTrust
from webhooks.ports import Clock, EventClaims, StoredEvent, StripeReader, UnitOfWork
from webhooks.use_cases.read_ahead import ReadAheadMissed, StripeSnapshot, read_ahead_batch

log = structlog.get_logger("webhooks.processing")


def worker_identity() -> str:
    """``host:pid:random``: who holds a lease (``claimed_by``), for operators."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
    claims: EventClaims
    stripe: StripeReader
    plans: PriceCatalog
    clock: Clock
    policy: RetryPolicy
    trust: EventTrust = field(default_factory=EventTrust)
    lease: timedelta = timedelta(seconds=60)
    """How long a claim holds (``WEBHOOK_LEASE_SECONDS``): read-ahead and finishing
    must fit in it; past it, another worker may take the rows over."""
    worker_id: str = field(default_factory=worker_identity)


async def process_next_due(deps: ProcessingDeps) -> Processed | None:
    """Handle the oldest due event, if any; return what became of it."""
    done = await process_due(deps, limit=1)
    return done[0] if done else None


async def process_due(deps: ProcessingDeps, *, limit: int) -> list[Processed]:
    """Lease up to ``limit`` due events, oldest first, read ahead from Stripe, and
    finish them in ONE transaction.

    What a batch saves is a BEGIN, a COMMIT (a WAL flush), a claim and a pool round
    trip per event, which under load is most of an event's cost.
    """
    claimed = await deps.claims.claim(
        deps.clock.now(), limit, lease=deps.lease, worker=deps.worker_id
    )
    if not claimed:
        return []
    reads = await read_ahead_batch(claimed, deps)
    done: list[tuple[Processed, Any]] = []
    failed_alone: _FailedAlone | None = None
    uow = deps.uow_factory()
    async with uow:
        try:
            for stored, read in zip(claimed, reads, strict=True):
                finished = await _finish(stored, read, uow, deps, alone=len(claimed) == 1)
                if finished is not None:
                    done.append(finished)
        except _FailedAlone as failed:
            failed_alone = failed  # leaving the block uncommitted rolls the handling back
        except _LeaseLost as lost:
            _lease_lost(lost.stored)  # a lone event: nothing of it is committed
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

    def __init__(self, stored: StoredEvent, exc: Exception, bound: Any) -> None:
        self.stored, self.exc, self.bound = stored, exc, bound


class _LeaseLost(Exception):  # noqa: N818 - a signal, not an error report
    """The row no longer carries this claim's token: another worker has it."""

    def __init__(self, stored: StoredEvent) -> None:
        self.stored = stored


async def _finish(
    stored: StoredEvent,
    read: StripeSnapshot | Exception | None,
    uow: UnitOfWork,
    deps: ProcessingDeps,
    *,
    alone: bool,
) -> tuple[Processed, Any] | None:
    """Apply one leased event in the finishing transaction; ``None`` when its lease
    was lost (nothing of it written) or it was not read ahead (put back)."""
    record = stored.record
    if read is None:
        record.put_back(deps.clock.now())
        await uow.events.save(stored)
        return None
    before = replace(record)
    bound = log.bind(
        stripe_event_id=record.event_id,
        event_type=record.event_type,
        attempt=record.retry_count + 1,
    )
    if isinstance(read, Exception):  # the Stripe reads failed: nothing was handled
        return await _save_failure(stored, read, uow, deps, bound)
    try:
        if alone:
            published = await _apply(stored, read, uow, deps)
        else:
            async with uow.savepoint():
                published = await _apply(stored, read, uow, deps)
    except _LeaseLost:
        if alone:
            raise
        _lease_lost(stored)
        return None
    except Exception as exc:
        stored.record = before  # what the handling changed is undone with it
        if alone:
            raise _FailedAlone(stored, exc, bound) from exc
        return await _save_failure(stored, exc, uow, deps, bound)
    return _outcome(stored, published, None), bound


async def _save_failure(
    stored: StoredEvent, exc: Exception, uow: UnitOfWork, deps: ProcessingDeps, bound: Any
) -> tuple[Processed, Any] | None:
    error = _record_attempt_failure(stored, exc, deps, bound)
    if not await uow.events.save(stored, tenant_id=stored.tenant_id):
        _lease_lost(stored)
        return None
    return _outcome(stored, 0, error), bound


async def _apply(
    stored: StoredEvent, stripe: StripeSnapshot, uow: UnitOfWork, deps: ProcessingDeps
) -> int:
    published = await _handle(stored, uow, deps, stripe)
    if not await uow.events.save(stored, tenant_id=stored.tenant_id):
        raise _LeaseLost(stored)
    return published


def _lease_lost(stored: StoredEvent) -> None:
    log.warning(
        "webhooks.event.lease_lost",
        stripe_event_id=stored.record.event_id,
        event_type=stored.record.event_type,
    )
    metrics.LEASE_LOST.inc()


async def _record_failure_alone(
    failed: _FailedAlone, deps: ProcessingDeps
) -> list[tuple[Processed, Any]]:
    """Record the failed attempt in a transaction of its own, unless the lease has
    been lost meanwhile (another worker has the row)."""
    uow = deps.uow_factory()
    async with uow:
        done = await _save_failure(failed.stored, failed.exc, uow, deps, failed.bound)
        if done is None:
            return []
        await uow.commit()
    return [done]


def _record_attempt_failure(
    stored: StoredEvent, exc: Exception, deps: ProcessingDeps, bound: Any
) -> str:
    record = stored.record
    error = f"{type(exc).__name__}: {exc}"
    failure = FailureClass(failure_class(exc))
    record.mark_failed_attempt(error, deps.clock.now(), deps.policy, failure=failure)
    (bound.error if record.status is WebhookEventStatus.FAILED else bound.warning)(
        "webhooks.event.attempt_failed",
        status=record.status.value,
        retry_count=record.retry_count,
        next_attempt_at=record.next_attempt_at,
        error=error,
        error_class=failure.value,
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


async def _handle(
    stored: StoredEvent, uow: UnitOfWork, deps: ProcessingDeps, stripe: StripeReader
) -> int:
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
        tenant_id = await _resolve_tenant(body, uow, stripe)
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
    needs = translate.lookups(body)
    subscription = await _maybe(stripe.subscription, needs.subscription_id)
    schedule_id = needs.schedule_id
    if needs.schedule_of_subscription and subscription is not None:
        schedule_id = translate.schedule_id_of(subscription)
    schedule = await _maybe(stripe.subscription_schedule, schedule_id)
    payments = await _maybe(stripe.invoice_payments, needs.invoice_payments_of)
    events = translate.translate(
        body,
        tenant_id=tenant_id,
        plans=deps.plans,
        now=now,
        schedule=schedule,
        subscription=subscription,
        invoice_payments=payments,
    )
    await uow.outbox.add_all(events)
    done_note = None if events else "no billing event"
    if body["type"] in translate.CUSTOMER_TYPES:
        done_note = "customer linked to tenant"  # and published as customer.updated
    record.mark_processed(now, note=done_note)
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
        found = customer_tenant(await stripe.customer(customer))
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


_EXPECTED_FAILURES: tuple[type[Exception], ...] = (
    NotFound,
    GatewayUnavailable,
    RuleViolated,
    ReadAheadMissed,
)
