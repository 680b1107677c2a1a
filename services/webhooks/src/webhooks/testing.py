"""Fakes of the webhooks service's ports and builders of its inputs, for its tests.

Imported by tests only: an import-linter contract forbids every production module to
import this one. The fake unit of work stands on the platform's
``billing_platform.testing.fakes.FakeUnitOfWork``: the event log's writes, the
customer links, the replay audit and the outbox are staged and reach the store only
with ``commit()``; a rollback (or leaving the block without committing) discards all
of them, and ``savepoint()`` undoes what was staged inside it when it raises.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from billing_domain.errors import NotFound
from billing_domain.events import IntegrationEvent
from billing_domain.webhook_log import RetryPolicy, WebhookEventRecord, WebhookEventStatus
from billing_platform.stripe_gateway import STRIPE_API_VERSION
from billing_platform.stripe_reading import PriceCatalog
from billing_platform.testing.clock import FakeClock
from billing_platform.testing.fakes import FakeUnitOfWork
from billing_platform.testing.stripe_fixtures import stripe_fixture
from fastapi import FastAPI

from webhooks.ports import Clock, EventLogFilter, EventLogPage, NewStripeEvent, StoredEvent
from webhooks.signature import sign
from webhooks.use_cases.ingest import record_stripe_event
from webhooks.use_cases.processing import ProcessingDeps

PRICES = {"solo": "price_solo", "team": "price_team", "enterprise": "price_enterprise"}
SECRET = "whsec_test_secret_current"
OLD_SECRET = "whsec_test_secret_previous"
RETIRED = ""
"""A customer link's tenant once the customer is deleted (never resolves, never re-linked)."""
_ids = itertools.count(1)

Replay = tuple[str, str, WebhookEventStatus]


class FakeStripeReader:
    """Stripe as far as the worker reads it: objects by id; records every read."""

    def __init__(self) -> None:
        self.objects: dict[str, Mapping[str, Any]] = {}
        self.reads: list[str] = []
        self.fail_with: Exception | None = None

    async def _get(self, object_id: str) -> Mapping[str, Any]:
        self.reads.append(object_id)
        if self.fail_with is not None:
            raise self.fail_with
        if object_id not in self.objects:
            raise NotFound(f"no {object_id}", code="stripe_not_found")
        return self.objects[object_id]

    async def customer(self, customer_id: str) -> Mapping[str, Any]:
        return await self._get(customer_id)

    async def subscription(self, subscription_id: str) -> Mapping[str, Any]:
        return await self._get(subscription_id)

    async def subscription_schedule(self, schedule_id: str) -> Mapping[str, Any]:
        return await self._get(schedule_id)

    async def invoice_payments(self, invoice_id: str) -> Mapping[str, Any]:
        """``objects["payments:<invoice id>"]``, else an empty list (as Stripe answers
        for an invoice with no payment yet)."""
        key = f"payments:{invoice_id}"
        if key in self.objects or self.fail_with is not None:
            return await self._get(key)
        self.reads.append(key)
        return {"object": "list", "data": [], "has_more": False}


class FakeEventLog:
    """The committed event log in memory (``StripeEventStore`` and ``EventClaims``: each
    call commits at once, as in Postgres), with the same once-only and due-order rules."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredEvent] = {}
        self.replays: list[Replay] = []

    async def add(self, event: NewStripeEvent, now: datetime) -> bool:
        if event.event_id in self.rows:
            return False
        self.rows[event.event_id] = StoredEvent(
            record=WebhookEventRecord.received(
                event_id=event.event_id, event_type=event.event_type, now=now
            ),
            tenant_id=event.tenant_id,
            stripe_created_at=event.stripe_created_at,
            payload=json.loads(event.payload),
        )
        return True

    async def claim(
        self, now: datetime, limit: int, *, lease: timedelta, worker: str
    ) -> Sequence[StoredEvent]:
        """Leases as in Postgres: the row moves to the lease's end, the worker gets a copy
        with a fresh token (its writes reach the row only through ``save``)."""
        due = [s for s in self.rows.values() if s.record.is_due(now)]
        claimed = []
        for row in sorted(due, key=lambda s: s.record.next_attempt_at or now)[:limit]:
            row.claim_token = uuid.uuid4().hex
            row.record.next_attempt_at = now + lease
            claimed.append(copy.deepcopy(row))
        return claimed


@dataclasses.dataclass
class Staged:
    """One transaction's writes, invisible to the store until committed."""

    rows: dict[str, StoredEvent] = dataclasses.field(default_factory=dict)
    links: dict[str, str] = dataclasses.field(default_factory=dict)
    replays: list[Replay] = dataclasses.field(default_factory=list)
    outbox: list[IntegrationEvent] = dataclasses.field(default_factory=list)

    def copy(self) -> Staged:
        """A mark for a savepoint (staged rows are replaced, never changed in place)."""
        return Staged(
            rows=dict(self.rows),
            links=dict(self.links),
            replays=list(self.replays),
            outbox=list(self.outbox),
        )


class _UnitEventLog:
    """``EventLog`` inside a fake unit of work: reads its own staged writes."""

    def __init__(self, uow: FakeWebhooksUnitOfWork) -> None:
        self._uow = uow

    def _row(self, event_id: str) -> StoredEvent | None:
        staged = self._uow.staged.rows.get(event_id)
        return staged if staged is not None else self._uow.world.log.rows.get(event_id)

    async def get_for_update(self, event_id: str) -> StoredEvent | None:
        return copy.deepcopy(self._row(event_id))

    async def get(self, event_id: str) -> StoredEvent | None:
        return copy.deepcopy(self._row(event_id))

    async def save(self, event: StoredEvent, *, tenant_id: str | None = None) -> bool:
        row = self._row(event.record.event_id)
        if event.claim_token is not None and (row is None or row.claim_token != event.claim_token):
            return False
        saved = copy.deepcopy(event)
        saved.claim_token = None
        if tenant_id is not None:
            saved.tenant_id = tenant_id
        self._uow.staged.rows[event.record.event_id] = saved
        return True

    async def record_replay(
        self, event_id: str, *, actor: str, previous_status: WebhookEventStatus
    ) -> None:
        self._uow.staged.replays.append((event_id, actor, previous_status))

    async def list(self, query: EventLogFilter) -> EventLogPage:
        """Rows numbered in arrival order (the log's ``id``), filtered, a page at a time."""
        rows = {**self._uow.world.log.rows, **self._uow.staged.rows}
        found = [
            (number, row)
            for number, row in enumerate(rows.values(), start=1)
            if number > (query.after_id or 0)
            and (query.status is None or row.record.status is query.status)
            and (query.event_type is None or row.record.event_type == query.event_type)
        ]
        page = found[: query.limit]
        more = len(found) > query.limit
        return EventLogPage(events=page, next_after_id=page[-1][0] if more else None)

    async def replayable_ids(self, status: WebhookEventStatus, limit: int) -> Sequence[str]:
        rows = {**self._uow.world.log.rows, **self._uow.staged.rows}
        return [k for k, s in rows.items() if s.record.status is status][:limit]


class _UnitCustomers:
    """``CustomerDirectory`` inside a fake unit of work."""

    def __init__(self, uow: FakeWebhooksUnitOfWork) -> None:
        self._uow = uow

    def _link_of(self, customer_id: str) -> str | None:
        staged = self._uow.staged.links.get(customer_id)
        return staged if staged is not None else self._uow.world.customers.get(customer_id)

    async def tenant_of(self, customer_id: str) -> str | None:
        return self._link_of(customer_id) or None

    async def link(self, customer_id: str, tenant_id: str) -> str:
        current = self._link_of(customer_id)
        if current is None:
            self._uow.staged.links[customer_id] = tenant_id
            return tenant_id
        return current or tenant_id  # retired: never linked again

    async def retire(self, customer_id: str, tenant_id: str | None) -> None:
        self._uow.staged.links[customer_id] = RETIRED


class _UnitOutbox:
    def __init__(self, uow: FakeWebhooksUnitOfWork) -> None:
        self._uow = uow

    async def add_all(self, events: Sequence[IntegrationEvent]) -> None:
        self._uow.staged.outbox.extend(events)


class FakeWebhooksUnitOfWork(FakeUnitOfWork[Staged]):
    """Stages every repository's writes; only ``commit`` makes them visible in the world."""

    def __init__(self, world: FakeWorld) -> None:
        self.world = world
        super().__init__()
        self._events = _UnitEventLog(self)
        self._customers = _UnitCustomers(self)
        self._outbox = _UnitOutbox(self)

    @property
    def events(self) -> _UnitEventLog:
        return self._events

    @property
    def customers(self) -> _UnitCustomers:
        return self._customers

    @property
    def outbox(self) -> _UnitOutbox:
        return self._outbox

    def _new_stage(self) -> Staged:
        return Staged()

    def _apply(self, staged: Staged) -> None:
        self.world.log.rows.update(staged.rows)
        self.world.log.replays.extend(staged.replays)
        self.world.customers.update(staged.links)
        self.world.published.extend(staged.outbox)

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        mark = self.staged.copy()
        try:
            yield
        except BaseException:
            self.staged = mark
            raise


class FakeWorld:
    """Everything the use cases touch, in memory: the committed log, the customer links
    (customer -> tenant, ``RETIRED`` once deleted) and the published billing events."""

    def __init__(self, clock: FakeClock, stripe: FakeStripeReader) -> None:
        self.log = FakeEventLog()
        self.customers: dict[str, str] = {}
        self.published: list[IntegrationEvent] = []
        self.clock = clock
        self.stripe = stripe

    def uow(self) -> FakeWebhooksUnitOfWork:
        return FakeWebhooksUnitOfWork(self)

    def deps(self) -> ProcessingDeps:
        """What the processing use cases are handed, all fakes."""
        return ProcessingDeps(
            uow_factory=self.uow,
            claims=self.log,
            stripe=self.stripe,
            plans=PriceCatalog(PRICES),
            clock=self.clock,
            policy=RetryPolicy(max_attempts=3),
        )

    async def ingest(self, event: Mapping[str, Any]) -> bool:
        """Store a Stripe event as the ingest endpoint does; True for a duplicate."""
        return await record_stripe_event(Builders.new_stripe_event(event), self.log, self.clock)


def customer_of(tenant: str | None) -> str:
    """Each tenant its own Stripe customer (``cus_a`` for ``tenant_a``): metadata never
    moves a mapped customer to another tenant."""
    return "cus_a" if tenant in (None, "tenant_a") else f"cus_{tenant}"


def signed_headers(
    body: bytes, *, secret: str = SECRET, timestamp: int | None = None
) -> dict[str, str]:
    t = int(time.time()) if timestamp is None else timestamp
    return {
        "Stripe-Signature": f"t={t},v1={sign(body, secret, t)}",
        "Content-Type": "application/json",
    }


class Signer(Protocol):
    def __call__(
        self, body: bytes, *, secret: str = ..., timestamp: int | None = ...
    ) -> dict[str, str]: ...


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunningWebhooks:
    """The webhooks app running (lifespan, worker, relay), a client to it and its log's
    rows read straight from Postgres (``count_rows``, ``fetch_row``: given by the tests'
    conftest, the only place besides the adapters that talks to the database)."""

    app: FastAPI
    client: httpx.AsyncClient
    database_url: str
    count_rows: Callable[[], Awaitable[int]]
    fetch_row: Callable[[str], Awaitable[Mapping[str, Any] | None]]

    async def post_event(
        self, event: Mapping[str, Any], *, secret: str = SECRET, timestamp: int | None = None
    ) -> httpx.Response:
        body = json.dumps(event).encode()
        headers = signed_headers(body, secret=secret, timestamp=timestamp)
        return await self.client.post("/api/webhooks/stripe", content=body, headers=headers)

    async def rows(self) -> int:
        """How many events the log holds."""
        return await self.count_rows()

    async def row(self, event_id: str) -> Mapping[str, Any] | None:
        """The log's row of ``event_id`` (its columns by name)."""
        return await self.fetch_row(event_id)


class StartWebhooks(Protocol):
    """``async with start_webhooks(**overrides) as running:`` (settings and create_app
    arguments; ``truncate=False`` keeps the log of the previous start)."""

    def __call__(
        self,
        *,
        database_url: str | None = None,
        amqp: str | None = None,
        clock: Clock | None = None,
        worker_concurrency: int = 2,
        truncate: bool = True,
    ) -> AbstractAsyncContextManager[RunningWebhooks]: ...


class Builders:
    """Stripe objects and events from Stripe's own fixtures, shaped for a test."""

    @staticmethod
    def subscription(
        *,
        tenant: str | None = "tenant_a",
        customer: str | None = "",  # "": the tenant's own (customer_of)
        plan: str = "team",
        status: str = "active",
        period_end: int = 1_800_000_000,
        **extra: Any,
    ) -> dict[str, Any]:
        sub = stripe_fixture("subscription")
        item = sub["items"]["data"][0]
        item["price"]["id"] = PRICES[plan]
        item["current_period_end"] = period_end
        item["current_period_start"] = period_end - 30 * 86400
        sub.update(
            id=f"sub_{next(_ids)}",
            customer=customer_of(tenant) if customer == "" else customer,
            status=status,
            metadata={"tenant_id": tenant} if tenant else {},
            cancel_at_period_end=False,
            cancel_at=None,
            schedule=None,
            trial_end=None,
        )
        sub.update(extra)
        return sub

    @staticmethod
    def session(
        *,
        tenant: str | None = "tenant_a",
        status: str = "complete",
        payment_status: str = "paid",
        plan: str | None = "team",
        **extra: Any,
    ) -> dict[str, Any]:
        session = stripe_fixture("checkout.session")
        session.update(
            id=f"cs_test_{next(_ids)}",
            mode="subscription",
            status=status,
            payment_status=payment_status,
            customer=customer_of(tenant),
            subscription="sub_checkout",
            client_reference_id=tenant,
            metadata={"tenant_id": tenant, "plan": plan} if tenant and plan else {},
            amount_total=2900,
            currency="usd",
        )
        session.update(extra)
        return session

    @staticmethod
    def invoice(
        *, customer: str | None = "", tenant: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        invoice = stripe_fixture("invoice")
        invoice.update(
            id=f"in_{next(_ids)}",
            customer=customer_of(tenant) if customer == "" else customer,
            currency="usd",
            amount_due=2900,
            amount_paid=0,
            attempt_count=1,
            hosted_invoice_url="https://invoice.stripe.test/i/1",
            next_payment_attempt=1_800_000_000,
            metadata={},
            parent={
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "subscription": "sub_1",
                    "metadata": {"tenant_id": tenant} if tenant else {},
                },
            },
        )
        invoice.update(extra)
        return invoice

    @staticmethod
    def customer(customer_id: str = "cus_a", tenant: str | None = "tenant_a") -> dict[str, Any]:
        customer = stripe_fixture("customer")
        customer.update(id=customer_id, metadata={"tenant_id": tenant} if tenant else {})
        return customer

    @staticmethod
    def event(
        event_type: str, obj: Mapping[str, Any], *, created: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        event = stripe_fixture("event")
        event.update(
            id=f"evt_test_{next(_ids):06d}",
            type=event_type,
            created=created or int(time.time()),
            api_version=STRIPE_API_VERSION,
            data={"object": dict(obj)},
        )
        event.update(extra)
        return event

    @staticmethod
    def new_stripe_event(event: Mapping[str, Any]) -> NewStripeEvent:
        """What the ingest endpoint hands the store for ``event`` (a verified Stripe event)."""
        return NewStripeEvent(
            event_id=event["id"],
            event_type=event["type"],
            tenant_id=None,
            api_version=event.get("api_version"),
            livemode=False,
            stripe_created_at=datetime.fromtimestamp(event["created"], UTC),
            payload=json.dumps(event).encode(),
        )
