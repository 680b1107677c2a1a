"""Postgres adapters of the webhooks service (asyncpg)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import asyncpg
import structlog
from billing_domain.events import IntegrationEvent
from billing_domain.webhook_log import FailureClass, WebhookEventRecord, WebhookEventStatus
from billing_platform.db import PgUnitOfWork
from billing_platform.messaging.outbox import AfterCommit, OutboxWriter
from billing_platform.sql_names import in_column_order, insert_sql, table_name

from webhooks.ports import EventLogFilter, EventLogPage, NewStripeEvent, StoredEvent
from webhooks.schema import EVENTS_CHANNEL, SCHEMA

LOG = table_name(SCHEMA, "stripe_webhook_events_log")
log = structlog.get_logger("webhooks.adapters.postgres")
_COLUMNS = (
    "id, event_id, event_type, tenant_id, status, note, error_message, retry_count, "
    "next_attempt_at, stripe_created_at, payload, received_at, processed_at, "
    "last_error_class, claim_token"
)


def _stored(row: asyncpg.Record) -> StoredEvent:
    record = WebhookEventRecord(
        event_id=row["event_id"],
        event_type=row["event_type"],
        received_at=row["received_at"],
        status=WebhookEventStatus(row["status"]),
        retry_count=row["retry_count"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["error_message"],
        last_error_class=FailureClass(row["last_error_class"]) if row["last_error_class"] else None,
        note=row["note"],
        finished_at=row["processed_at"],
    )
    payload = row["payload"]
    return StoredEvent(
        record=record,
        tenant_id=row["tenant_id"],
        stripe_created_at=row["stripe_created_at"],
        payload=json.loads(payload) if isinstance(payload, str) else payload,
        processed_at=row["processed_at"],
        claim_token=None if row["claim_token"] is None else str(row["claim_token"]),
    )


_EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "tenant_id",
    "status",
    "next_attempt_at",
    "api_version",
    "livemode",
    "stripe_created_at",
    "payload",
    "received_at",
)
_N = len(_EVENT_COLUMNS)  # then $N+1 the channel, $N+2 whether to notify, $N+3 its payload
_INSERT_EVENT = (
    f"WITH stored AS ({insert_sql(LOG, _EVENT_COLUMNS, casts={'payload': 'text::jsonb'})} "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "ON CONFLICT (event_id) DO NOTHING RETURNING 1) "
    "SELECT EXISTS (SELECT FROM stored), "
    f"CASE WHEN ${_N + 2} THEN pg_notify(${_N + 1}, ${_N + 3}) END"
)


class PgStripeEventStore:
    """Ingest's one write: a single statement, atomic and durable when it returns
    (autocommit: no BEGIN/COMMIT round trips on the hottest path).

    A stored event wakes this process's worker at once (``on_stored``) and other
    replicas by a NOTIFY sent with at most one insert per ``notify_interval``: a
    committing transaction that notified holds Postgres's cluster-wide notify lock
    until its WAL flush, so one NOTIFY per event serialized every ingest commit and
    the workers' commits behind each other (bench/webhook_to_projection.py). An
    insert that went without one gets a trailing NOTIFY at the end of the interval,
    so the last events of a burst reach a worker replica at once, not at its next
    poll (what an ingest-only replica, ``WEBHOOK_WORKER_CONCURRENCY=0``, relies on).
    The NOTIFY carries ``notify_payload`` (the local ``PgWakeup.token``), so this
    process's worker, poked already, ignores its own.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        on_stored: Callable[[], None] | None = None,
        notify_interval: float = 0.05,
        notify_payload: str = "",
    ) -> None:
        self._pool = pool
        self._on_stored = on_stored
        self._notify_payload = notify_payload
        self._notify_interval = notify_interval
        self._next_notify = 0.0
        self._trailing: asyncio.TimerHandle | None = None
        self._notifying: set[asyncio.Task[None]] = set()

    async def add(self, event: NewStripeEvent, now: datetime) -> bool:
        tick = time.monotonic()
        notify = tick >= self._next_notify
        if notify:
            self._next_notify = tick + self._notify_interval
        values = {
            "event_id": event.event_id,
            "event_type": event.event_type,
            "tenant_id": event.tenant_id,
            "status": WebhookEventStatus.PENDING.value,
            "next_attempt_at": now,
            "api_version": event.api_version,
            "livemode": event.livemode,
            "stripe_created_at": event.stripe_created_at,
            "payload": event.payload.decode(),
            "received_at": now,
        }
        inserted = await self._pool.fetchval(
            _INSERT_EVENT,
            *in_column_order(values, _EVENT_COLUMNS),
            EVENTS_CHANNEL,
            notify,
            self._notify_payload,
        )
        if inserted and self._on_stored is not None:
            self._on_stored()
        if inserted and not notify and self._trailing is None:
            loop = asyncio.get_running_loop()
            delay = max(self._next_notify - time.monotonic(), 0.0)
            self._trailing = loop.call_later(delay, self._notify_trailing)
        return bool(inserted)

    def _notify_trailing(self) -> None:
        self._trailing = None
        self._next_notify = time.monotonic() + self._notify_interval
        task = asyncio.create_task(self._send_notify())
        self._notifying.add(task)
        task.add_done_callback(self._notifying.discard)

    async def _send_notify(self) -> None:
        try:
            await self._pool.execute(
                "SELECT pg_notify($1, $2)", EVENTS_CHANNEL, self._notify_payload
            )
        except Exception as exc:  # the workers' poll covers a lost wake-up
            log.debug("webhooks.ingest.notify_failed", error=repr(exc))


_CLAIM = (
    f"WITH due AS (SELECT id AS due_id, next_attempt_at AS was_due FROM {LOG} "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "WHERE status IN ('pending', 'retrying') AND next_attempt_at <= $1 "
    "ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) "
    f"UPDATE {LOG} SET claimed_by = $3, claim_token = gen_random_uuid(), "
    "lease_until = $4, next_attempt_at = $4 FROM due WHERE id = due.due_id "
    f"RETURNING {_COLUMNS}, due.was_due"
)


class PgEventClaims:
    """Leases of due rows: ONE autocommitted statement per batch. The lease's end is
    also the row's ``next_attempt_at``, so the due index finds a dead worker's rows
    again when it passes, and nothing else needs to look at ``lease_until``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(
        self, now: datetime, limit: int, *, lease: timedelta, worker: str
    ) -> Sequence[StoredEvent]:
        rows = await self._pool.fetch(_CLAIM, now, limit, worker, now + lease)
        rows = sorted(rows, key=lambda row: (row["was_due"], row["id"]))
        return [_stored(row) for row in rows]


_SAVE = (
    f"UPDATE {LOG} SET status = $2, note = $3, error_message = $4, retry_count = $5, "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "next_attempt_at = $6, processed_at = $7, tenant_id = COALESCE($8, tenant_id), "
    "last_error_class = $9, claimed_by = NULL, claim_token = NULL, lease_until = NULL "
    "WHERE event_id = $1 AND ($10::uuid IS NULL OR claim_token = $10::uuid)"
)


class PgEventLog:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def get_for_update(self, event_id: str) -> StoredEvent | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM {LOG} WHERE event_id = $1 FOR UPDATE",  # noqa: S608 (identifiers from sql_names, values are parameters)
            event_id,
        )
        return None if row is None else _stored(row)

    async def get(self, event_id: str) -> StoredEvent | None:
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM {LOG} WHERE event_id = $1",  # noqa: S608 (identifiers from sql_names, values are parameters)
            event_id,
        )
        return None if row is None else _stored(row)

    async def save(self, event: StoredEvent, *, tenant_id: str | None = None) -> bool:
        record = event.record
        written = await self._conn.execute(
            _SAVE,
            record.event_id,
            record.status.value,
            record.note,
            record.last_error,
            record.retry_count,
            record.next_attempt_at,
            record.finished_at,
            tenant_id,
            None if record.last_error_class is None else record.last_error_class.value,
            event.claim_token,
        )
        if written == "UPDATE 0":
            return False
        if record.status.is_waiting:
            await self._conn.execute("SELECT pg_notify($1, '')", EVENTS_CHANNEL)
        return True

    async def record_replay(
        self, event_id: str, *, actor: str, previous_status: WebhookEventStatus
    ) -> None:
        await self._conn.execute(
            f"INSERT INTO {SCHEMA}.event_replays (event_id, replayed_by, previous_status) "  # noqa: S608 (identifiers from sql_names, values are parameters)
            "VALUES ($1, $2, $3)",
            event_id,
            actor,
            previous_status.value,
        )

    async def list(self, query: EventLogFilter) -> EventLogPage:
        conditions: list[str] = ["true"]
        args: list[object] = []
        for column, value in (
            ("status", query.status.value if query.status else None),
            ("event_type", query.event_type),
        ):
            if value is not None:
                args.append(value)
                conditions.append(f"{column} = ${len(args)}")
        if query.after_id is not None:
            args.append(query.after_id)
            conditions.append(f"id < ${len(args)}")
        args.append(query.limit + 1)
        rows = await self._conn.fetch(
            f"SELECT {_COLUMNS} FROM {LOG} WHERE {' AND '.join(conditions)} "  # noqa: S608 (identifiers from sql_names, values are parameters)
            f"ORDER BY id DESC LIMIT ${len(args)}",
            *args,
        )
        page = [(row["id"], _stored(row)) for row in rows[: query.limit]]
        more = len(rows) > query.limit
        return EventLogPage(events=page, next_after_id=page[-1][0] if more and page else None)

    async def replayable_ids(self, status: WebhookEventStatus, limit: int) -> Sequence[str]:
        rows = await self._conn.fetch(
            f"SELECT event_id FROM {LOG} WHERE status = $1 ORDER BY id LIMIT $2",  # noqa: S608 (identifiers from sql_names, values are parameters)
            status.value,
            limit,
        )
        return [row["event_id"] for row in rows]


class PgEventLogMonitor:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def next_due_at(self) -> datetime | None:
        due: datetime | None = await self._pool.fetchval(
            f"SELECT min(next_attempt_at) FROM {LOG} WHERE status IN ('pending', 'retrying')"  # noqa: S608 (identifiers from sql_names, values are parameters)
        )
        return due

    async def backlog(self) -> tuple[int, float, int]:
        row = await self._pool.fetchrow(
            "SELECT count(*) AS waiting, "  # noqa: S608 (identifiers from sql_names, values are parameters)
            "coalesce(extract(epoch FROM now() - min(received_at)), 0)::float8 AS oldest "
            f"FROM {LOG} WHERE status IN ('pending', 'retrying')"
        )
        unsent = await self._pool.fetchval(
            f"SELECT count(*) FROM {SCHEMA}.outbox WHERE sent_at IS NULL"  # noqa: S608 (identifiers from sql_names, values are parameters)
        )
        assert row is not None
        return int(row["waiting"]), float(row["oldest"]), int(unsent or 0)

    async def count_by_status(self) -> dict[str, int]:
        rows = await self._pool.fetch(
            f"SELECT status, count(*) AS n FROM {LOG} WHERE status <> 'processed' GROUP BY status"  # noqa: S608 (identifiers from sql_names, values are parameters)
        )
        return {row["status"]: int(row["n"]) for row in rows}


class PgCustomerDirectory:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def tenant_of(self, customer_id: str) -> str | None:
        tenant: str | None = await self._conn.fetchval(
            f"SELECT tenant_id FROM {SCHEMA}.customer_tenants "  # noqa: S608 (identifiers from sql_names, values are parameters)
            "WHERE stripe_customer_id = $1 AND deleted_at IS NULL",
            customer_id,
        )
        return tenant

    async def link(self, customer_id: str, tenant_id: str) -> str:
        inserted: str | None = await self._conn.fetchval(
            f"INSERT INTO {SCHEMA}.customer_tenants (stripe_customer_id, tenant_id) "  # noqa: S608 (identifiers from sql_names, values are parameters)
            "VALUES ($1, $2) ON CONFLICT (stripe_customer_id) DO NOTHING RETURNING tenant_id",
            customer_id,
            tenant_id,
        )
        if inserted is not None:
            return inserted
        # Mapped already (perhaps by a transaction that committed while this one waited):
        # a new statement sees it.
        mapped = await self.tenant_of(customer_id)
        return mapped if mapped is not None else tenant_id

    async def retire(self, customer_id: str, tenant_id: str | None) -> None:
        await self._conn.execute(
            f"INSERT INTO {SCHEMA}.customer_tenants (stripe_customer_id, tenant_id, deleted_at) "  # noqa: S608 (identifiers from sql_names, values are parameters)
            "VALUES ($1, $2, now()) ON CONFLICT (stripe_customer_id) DO UPDATE "
            "SET deleted_at = coalesce(customer_tenants.deleted_at, now()), updated_at = now()",
            customer_id,
            tenant_id or "",
        )


class PgOutbox:
    def __init__(self, conn: asyncpg.Connection, after_commit: AfterCommit | None = None) -> None:
        self._writer = OutboxWriter(conn, SCHEMA, after_commit=after_commit)

    async def add_all(self, events: Sequence[IntegrationEvent]) -> None:
        await self._writer.add_all(events)


class PgWebhooksUnitOfWork(PgUnitOfWork):
    events: PgEventLog
    customers: PgCustomerDirectory
    outbox: PgOutbox

    def _on_enter(self) -> None:
        self.events = PgEventLog(self.connection)
        self.customers = PgCustomerDirectory(self.connection)
        self.outbox = PgOutbox(self.connection, self.after_commit)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self.connection.transaction():
            yield
