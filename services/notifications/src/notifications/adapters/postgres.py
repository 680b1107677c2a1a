"""Postgres adapters (asyncpg): the unit of work and the repositories of the
notifications schema."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from billing_platform.db import PgUnitOfWork
from billing_platform.messaging.inbox import PgMessageInbox
from billing_platform.messaging.outbox import OutboxWriter

from notifications.kinds import MailKind
from notifications.ports import (
    CardRecord,
    ClaimedMail,
    QueuedMail,
    Recipient,
    SendLogEntry,
    TenantState,
)
from notifications.schema import SCHEMA


class PgRecipientRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def get(self, tenant_id: str) -> Recipient | None:
        row = await self._conn.fetchrow(
            "SELECT tenant_id, stripe_customer_id, email, name, locales, "
            "default_payment_method_id, as_of FROM notifications.recipients WHERE tenant_id = $1",
            tenant_id,
        )
        if row is None:
            return None
        return Recipient(
            tenant_id=row["tenant_id"],
            customer_id=row["stripe_customer_id"],
            email=row["email"],
            name=row["name"],
            locales=tuple(row["locales"]),
            default_payment_method_id=row["default_payment_method_id"],
            as_of=row["as_of"],
        )

    async def save(self, recipient: Recipient) -> bool:
        stored = await self._conn.fetchval(
            "INSERT INTO notifications.recipients AS r (tenant_id, stripe_customer_id, email, "
            "name, locales, default_payment_method_id, as_of) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "ON CONFLICT (tenant_id) DO UPDATE SET "
            "stripe_customer_id = EXCLUDED.stripe_customer_id, "
            "email = EXCLUDED.email, name = EXCLUDED.name, locales = EXCLUDED.locales, "
            "default_payment_method_id = EXCLUDED.default_payment_method_id, "
            "as_of = EXCLUDED.as_of, updated_at = now() WHERE r.as_of <= EXCLUDED.as_of "
            "RETURNING true",
            recipient.tenant_id,
            recipient.customer_id,
            recipient.email,
            recipient.name,
            list(recipient.locales),
            recipient.default_payment_method_id,
            recipient.as_of,
        )
        return bool(stored)


class PgStateRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def get(self, tenant_id: str) -> TenantState | None:
        row = await self._conn.fetchrow(
            "SELECT tenant_id, status, trial_end, cancel_at_period_end, open_invoice_id, "
            "open_failure, subscription_as_of, invoice_as_of "
            "FROM notifications.tenant_state WHERE tenant_id = $1",
            tenant_id,
        )
        if row is None:
            return None
        return TenantState(**dict(row))

    async def save(self, state: TenantState) -> None:
        failure = None if state.open_failure is None else dict(state.open_failure)
        await self._conn.execute(
            "INSERT INTO notifications.tenant_state (tenant_id, status, trial_end, "
            "cancel_at_period_end, open_invoice_id, open_failure, subscription_as_of, "
            "invoice_as_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "ON CONFLICT (tenant_id) DO UPDATE SET status = EXCLUDED.status, "
            "trial_end = EXCLUDED.trial_end, cancel_at_period_end = EXCLUDED.cancel_at_period_end, "
            "open_invoice_id = EXCLUDED.open_invoice_id, open_failure = EXCLUDED.open_failure, "
            "subscription_as_of = EXCLUDED.subscription_as_of, "
            "invoice_as_of = EXCLUDED.invoice_as_of, updated_at = now()",
            state.tenant_id,
            state.status,
            state.trial_end,
            state.cancel_at_period_end,
            state.open_invoice_id,
            failure,
            state.subscription_as_of,
            state.invoice_as_of,
        )


class PgCardRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def save(self, card: CardRecord) -> None:
        await self._conn.execute(
            "INSERT INTO notifications.cards (tenant_id, payment_method_id, brand, last4, "
            "exp_month, exp_year) VALUES ($1, $2, $3, $4, $5, $6) "
            "ON CONFLICT (tenant_id, payment_method_id) DO UPDATE SET brand = EXCLUDED.brand, "
            "last4 = EXCLUDED.last4, exp_month = EXCLUDED.exp_month, "
            "exp_year = EXCLUDED.exp_year, updated_at = now()",
            card.tenant_id,
            card.payment_method_id,
            card.brand,
            card.last4,
            card.exp_month,
            card.exp_year,
        )

    async def remove(self, tenant_id: str, payment_method_id: str) -> None:
        await self._conn.execute(
            "DELETE FROM notifications.cards WHERE tenant_id = $1 AND payment_method_id = $2",
            tenant_id,
            payment_method_id,
        )

    async def default_cards(self) -> Sequence[CardRecord]:
        rows = await self._conn.fetch(
            "SELECT c.tenant_id, c.payment_method_id, c.brand, c.last4, c.exp_month, c.exp_year "
            "FROM notifications.cards c JOIN notifications.recipients r "
            "ON r.tenant_id = c.tenant_id AND r.default_payment_method_id = c.payment_method_id "
            "ORDER BY c.tenant_id"
        )
        return [CardRecord(**dict(row)) for row in rows]


_ENTRY_COLUMNS = (
    "id, kind, tenant_id, subject_id, day, status, to_address, attempts, last_error, "
    "created_at, finished_at"
)


class PgSendLog:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def enqueue(self, mail: QueuedMail) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO notifications.sends (dedupe_key, kind, tenant_id, subject_id, day, "
            "facts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
            "ON CONFLICT (dedupe_key) DO NOTHING RETURNING true",
            mail.dedupe_key,
            mail.kind.value,
            mail.tenant_id,
            mail.subject_id,
            mail.day,
            dict(mail.facts),  # jsonb: the pool's codec encodes it
            mail.created_at,
        )
        return bool(inserted)

    async def ever_queued(self, kind: MailKind, tenant_id: str, subject_id: str) -> bool:
        found = await self._conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM notifications.sends "
            "WHERE kind = $1 AND tenant_id = $2 AND subject_id = $3)",
            kind.value,
            tenant_id,
            subject_id,
        )
        return bool(found)

    async def claim_due(self, now: datetime, lease_until: datetime) -> ClaimedMail | None:
        row = await self._conn.fetchrow(
            "UPDATE notifications.sends SET attempts = attempts + 1, next_attempt_at = $2 "
            "WHERE id = (SELECT id FROM notifications.sends WHERE status = 'pending' "
            "AND next_attempt_at <= $1 ORDER BY next_attempt_at, id "
            "FOR UPDATE SKIP LOCKED LIMIT 1) "
            "RETURNING id, kind, tenant_id, subject_id, facts, attempts, created_at",
            now,
            lease_until,
        )
        if row is None:
            return None
        return ClaimedMail(
            id=row["id"],
            kind=MailKind(row["kind"]),
            tenant_id=row["tenant_id"],
            subject_id=row["subject_id"],
            facts=row["facts"],
            attempts=row["attempts"],
            created_at=row["created_at"],
        )

    async def finish(
        self, mail_id: int, *, status: str, to: str | None, error: str | None, now: datetime
    ) -> None:
        await self._conn.execute(
            "UPDATE notifications.sends SET status = $2, to_address = coalesce($3, to_address), "
            "last_error = coalesce($4, last_error), finished_at = $5 WHERE id = $1",
            mail_id,
            status,
            to,
            error,
            now,
        )

    async def retry_at(self, mail_id: int, *, error: str, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE notifications.sends SET last_error = $2, next_attempt_at = $3 "
            "WHERE id = $1 AND status = 'pending'",
            mail_id,
            error,
            at,
        )

    async def entries(
        self,
        *,
        tenant_id: str | None,
        kind: MailKind | None,
        limit: int,
        status: str | None = None,
    ) -> Sequence[SendLogEntry]:
        rows = await self._conn.fetch(
            f"SELECT {_ENTRY_COLUMNS} FROM notifications.sends "  # noqa: S608 (a constant column list, values are parameters)
            "WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR kind = $2) "
            "AND ($4::text IS NULL OR status = $4) "
            "ORDER BY id DESC LIMIT $3",
            tenant_id,
            None if kind is None else kind.value,
            limit,
            status,
        )
        return [_entry(row) for row in rows]


def _entry(row: Any) -> SendLogEntry:
    return SendLogEntry(
        id=row["id"],
        kind=MailKind(row["kind"]),
        tenant_id=row["tenant_id"],
        subject_id=row["subject_id"],
        day=row["day"],
        status=row["status"],
        to=row["to_address"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        sent_at=row["finished_at"] if row["status"] == "sent" else None,
    )


class PgPreferenceRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def disabled(self, tenant_id: str) -> frozenset[MailKind]:
        rows = await self._conn.fetch(
            "SELECT kind FROM notifications.preferences WHERE tenant_id = $1 AND NOT enabled",
            tenant_id,
        )
        return frozenset(MailKind(row["kind"]) for row in rows)

    async def set(
        self, tenant_id: str, kind: MailKind, *, enabled: bool, by: str, now: datetime
    ) -> None:
        await self._conn.execute(
            "INSERT INTO notifications.preferences (tenant_id, kind, enabled, updated_by, "
            "updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, kind) DO UPDATE "
            "SET enabled = EXCLUDED.enabled, updated_by = EXCLUDED.updated_by, "
            "updated_at = EXCLUDED.updated_at",
            tenant_id,
            kind.value,
            enabled,
            by,
            now,
        )


class PgUnsubscribeLedger:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def use(self, token_id: str, *, tenant_id: str, now: datetime) -> bool:
        inserted = await self._conn.fetchval(
            "INSERT INTO notifications.unsubscribe_tokens_used (token_id, tenant_id, used_at) "
            "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
            token_id,
            tenant_id,
            now,
        )
        return bool(inserted)


class PgNotificationsUnitOfWork(PgUnitOfWork):
    """One transaction; the repositories and the outbox share its connection."""

    recipients: PgRecipientRepository
    states: PgStateRepository
    cards: PgCardRepository
    sends: PgSendLog
    preferences: PgPreferenceRepository
    unsubscribes: PgUnsubscribeLedger
    outbox: OutboxWriter
    inbox: PgMessageInbox

    def _on_enter(self) -> None:
        conn = self.connection
        self.recipients = PgRecipientRepository(conn)
        self.states = PgStateRepository(conn)
        self.cards = PgCardRepository(conn)
        self.sends = PgSendLog(conn)
        self.preferences = PgPreferenceRepository(conn)
        self.unsubscribes = PgUnsubscribeLedger(conn)
        self.outbox = OutboxWriter(conn, SCHEMA, after_commit=self.after_commit)
        self.inbox = PgMessageInbox(conn, SCHEMA)
