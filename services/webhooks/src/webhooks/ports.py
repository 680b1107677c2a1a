"""What the webhooks use cases need from the outside world, sized to them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from billing_domain.clock import Clock
from billing_domain.events import IntegrationEvent
from billing_domain.webhook_log import WebhookEventRecord, WebhookEventStatus
from billing_platform.uow import TransactionalUnitOfWork

__all__ = [
    "Clock",
    "CustomerDirectory",
    "EventClaims",
    "EventLog",
    "EventLogFilter",
    "EventLogMonitor",
    "EventLogPage",
    "NewStripeEvent",
    "Outbox",
    "StoredEvent",
    "StripeEventStore",
    "StripeReader",
    "UnitOfWork",
]


@dataclass(frozen=True, kw_only=True)
class NewStripeEvent:
    event_id: str
    event_type: str
    tenant_id: str | None
    api_version: str | None
    livemode: bool
    stripe_created_at: datetime
    payload: bytes


@dataclass(kw_only=True)
class StoredEvent:
    """A log row: the domain record plus what the worker and operators read."""

    record: WebhookEventRecord
    tenant_id: str | None
    stripe_created_at: datetime
    payload: Mapping[str, Any]
    processed_at: datetime | None = None
    claim_token: str | None = None
    """Set while a worker holds the row's lease: its finishing write must carry it."""


@dataclass(frozen=True, kw_only=True)
class EventLogFilter:
    status: WebhookEventStatus | None = None
    event_type: str | None = None
    after_id: int | None = None
    limit: int = 50


@dataclass(frozen=True, kw_only=True)
class EventLogPage:
    events: Sequence[tuple[int, StoredEvent]]
    next_after_id: int | None


class StripeEventStore(Protocol):
    async def add(self, event: NewStripeEvent, now: datetime) -> bool:
        """Store once, durably, in one atomic step: True when new, False when this event
        id is already there."""
        ...


class EventClaims(Protocol):
    """Claims of due rows, outside any unit of work (each claim commits at once)."""

    async def claim(
        self, now: datetime, limit: int, *, lease: timedelta, worker: str
    ) -> Sequence[StoredEvent]:
        """Lease up to ``limit`` of the oldest due rows to ``worker`` until ``now + lease``
        (each with a new ``claim_token``; a row whose lease ran out is due again),
        oldest first, skipping rows other transactions hold."""
        ...


class EventLog(Protocol):
    async def get_for_update(self, event_id: str) -> StoredEvent | None: ...

    async def get(self, event_id: str) -> StoredEvent | None:
        """The event as it stands, without a lock (operators' reads)."""
        ...

    async def save(self, event: StoredEvent, *, tenant_id: str | None = None) -> bool:
        """Write the record and release its lease. An event carrying a ``claim_token``
        is written only while the row still carries that token: False (nothing
        written) when the lease was lost to another worker."""
        ...

    async def record_replay(
        self, event_id: str, *, actor: str, previous_status: WebhookEventStatus
    ) -> None:
        """Audit: ``actor`` (a token's ``sub``, or ``cli:<user>``) sent the event back to
        the worker from ``previous_status``; in the replay's transaction."""
        ...

    async def list(self, query: EventLogFilter) -> EventLogPage: ...

    async def replayable_ids(self, status: WebhookEventStatus, limit: int) -> Sequence[str]: ...


class EventLogMonitor(Protocol):
    """Figures the worker needs between batches (outside any unit of work)."""

    async def next_due_at(self) -> datetime | None: ...

    async def backlog(self) -> tuple[int, float, int]:
        """Events waiting, age in seconds of the oldest waiting, outbox rows unsent."""
        ...

    async def count_by_status(self) -> Mapping[str, int]:
        """Stored events by status, ``processed`` left out (it only grows)."""
        ...


class CustomerDirectory(Protocol):
    async def tenant_of(self, customer_id: str) -> str | None: ...

    async def link(self, customer_id: str, tenant_id: str) -> str:
        """Map an unmapped customer to ``tenant_id``; never re-point a mapped one.
        Returns the tenant the customer is mapped to afterwards."""
        ...

    async def retire(self, customer_id: str, tenant_id: str | None) -> None:
        """The customer was deleted: it never resolves again, and ``link`` never maps it
        again (Stripe never reuses a customer id; events about it may arrive late)."""
        ...


class Outbox(Protocol):
    async def add_all(self, events: Sequence[IntegrationEvent]) -> None: ...


class StripeReader(Protocol):
    """Reads of Stripe objects a translation may need; plain dicts in, domain errors out."""

    async def customer(self, customer_id: str) -> Mapping[str, Any]: ...

    async def subscription(self, subscription_id: str) -> Mapping[str, Any]: ...

    async def subscription_schedule(self, schedule_id: str) -> Mapping[str, Any]: ...

    async def invoice_payments(self, invoice_id: str) -> Mapping[str, Any]:
        """Stripe's list of the invoice's payments (``invoice_payment`` objects), each
        with its payment intent and that intent's payment method expanded."""
        ...


class UnitOfWork(TransactionalUnitOfWork, Protocol):
    @property
    def events(self) -> EventLog: ...

    @property
    def customers(self) -> CustomerDirectory: ...

    @property
    def outbox(self) -> Outbox: ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """Work inside it is undone on error, without ending the transaction."""
        ...
