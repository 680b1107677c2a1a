"""Postgres adapters (asyncpg): the unit of work and the repositories of the checkout schema."""

from __future__ import annotations

from datetime import datetime

import asyncpg
from billing_domain.plans import BillingInterval, PlanType
from billing_platform.db import PgUnitOfWork
from billing_platform.messaging.inbox import PgMessageInbox
from billing_platform.messaging.outbox import OutboxWriter
from billing_platform.sql_names import column_list, in_column_order, insert_sql, table_name

from checkout.ports import CheckoutSessionRecord, TenantPlan
from checkout.schema import SCHEMA

_SESSIONS = table_name(SCHEMA, "checkout_sessions")
_SESSION_COLUMNS = (
    "session_id",
    "tenant_id",
    "plan",
    "trial",
    "status",
    "url",
    "stripe_customer_id",
    "idempotency_key",
    "created_at",
    "billing_interval",
)
_INSERT_SESSION = f"{insert_sql(_SESSIONS, _SESSION_COLUMNS)} ON CONFLICT DO NOTHING RETURNING true"
_SELECT_SESSIONS = f"SELECT {column_list(_SESSION_COLUMNS)} FROM {_SESSIONS} "  # noqa: S608 (identifiers from sql_names, values are parameters)


class PgCustomerRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def lock(self, tenant_id: str) -> None:
        await self._conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            f"checkout.customer:{tenant_id}",
        )

    async def get(self, tenant_id: str) -> str | None:
        found: str | None = await self._conn.fetchval(
            "SELECT stripe_customer_id FROM checkout.billing_customers WHERE tenant_id = $1",
            tenant_id,
        )
        return found

    async def tenant_of(self, customer_id: str) -> str | None:
        found: str | None = await self._conn.fetchval(
            "SELECT tenant_id FROM checkout.billing_customers WHERE stripe_customer_id = $1",
            customer_id,
        )
        return found

    async def add(self, *, tenant_id: str, customer_id: str, created_at: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO checkout.billing_customers (tenant_id, stripe_customer_id, created_at) "
            "VALUES ($1, $2, $3)",
            tenant_id,
            customer_id,
            created_at,
        )


def _session(row: asyncpg.Record) -> CheckoutSessionRecord:
    return CheckoutSessionRecord(
        session_id=row["session_id"],
        tenant_id=row["tenant_id"],
        plan=PlanType(row["plan"]),
        trial=row["trial"],
        status=row["status"],
        url=row["url"],
        stripe_customer_id=row["stripe_customer_id"],
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
        interval=BillingInterval(row["billing_interval"]),
    )


class PgCheckoutSessionRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def add(self, record: CheckoutSessionRecord) -> bool:
        values = {
            "session_id": record.session_id,
            "tenant_id": record.tenant_id,
            "plan": record.plan.value,
            "trial": record.trial,
            "status": record.status,
            "url": record.url,
            "stripe_customer_id": record.stripe_customer_id,
            "idempotency_key": record.idempotency_key,
            "created_at": record.created_at,
            "billing_interval": record.interval.value,
        }
        inserted = await self._conn.fetchval(
            _INSERT_SESSION, *in_column_order(values, _SESSION_COLUMNS)
        )
        return bool(inserted)

    async def get(self, session_id: str) -> CheckoutSessionRecord | None:
        row = await self._conn.fetchrow(
            _SELECT_SESSIONS + "WHERE session_id = $1",
            session_id,
        )
        return None if row is None else _session(row)

    async def by_idempotency_key(
        self, tenant_id: str, idempotency_key: str
    ) -> CheckoutSessionRecord | None:
        row = await self._conn.fetchrow(
            _SELECT_SESSIONS + "WHERE tenant_id = $1 AND idempotency_key = $2",
            tenant_id,
            idempotency_key,
        )
        return None if row is None else _session(row)

    async def latest_open(
        self,
        *,
        tenant_id: str,
        plan: PlanType,
        trial: bool,
        since: datetime,
        interval: BillingInterval = BillingInterval.MONTH,
    ) -> CheckoutSessionRecord | None:
        row = await self._conn.fetchrow(
            _SELECT_SESSIONS
            + "WHERE tenant_id = $1 AND plan = $2 AND trial = $3 AND created_at >= $4 "
            "AND status = 'open' AND idempotency_key IS NULL AND billing_interval = $5 "
            "ORDER BY created_at DESC LIMIT 1",
            tenant_id,
            plan.value,
            trial,
            since,
            interval.value,
        )
        return None if row is None else _session(row)

    async def latest_open_trial(
        self, *, tenant_id: str, since: datetime
    ) -> CheckoutSessionRecord | None:
        row = await self._conn.fetchrow(
            _SELECT_SESSIONS
            + "WHERE tenant_id = $1 AND trial AND status = 'open' AND created_at >= $2 "
            "ORDER BY created_at DESC LIMIT 1",
            tenant_id,
            since,
        )
        return None if row is None else _session(row)

    async def mark_completed(
        self, session_id: str, *, payment_status: str, completed_at: datetime
    ) -> bool:
        updated = await self._conn.fetchval(
            "UPDATE checkout.checkout_sessions "
            "SET status = 'complete', payment_status = $2, completed_at = $3 "
            "WHERE session_id = $1 RETURNING true",
            session_id,
            payment_status,
            completed_at,
        )
        return bool(updated)


class PgTenantPlanRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def get(self, tenant_id: str) -> TenantPlan | None:
        row = await self._conn.fetchrow(
            "SELECT tenant_id, plan, status, as_of FROM checkout.tenant_plans WHERE tenant_id = $1",
            tenant_id,
        )
        if row is None:
            return None
        return TenantPlan(
            tenant_id=row["tenant_id"],
            plan=PlanType(row["plan"]),
            status=row["status"],
            as_of=row["as_of"],
        )

    async def save(self, plan: TenantPlan) -> bool:
        stored = await self._conn.fetchval(
            "INSERT INTO checkout.tenant_plans AS t (tenant_id, plan, status, as_of) "
            "VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (tenant_id) DO UPDATE "
            "SET plan = EXCLUDED.plan, status = EXCLUDED.status, as_of = EXCLUDED.as_of, "
            "updated_at = now() WHERE t.as_of <= EXCLUDED.as_of RETURNING true",
            plan.tenant_id,
            plan.plan.value,
            plan.status,
            plan.as_of,
        )
        return bool(stored)


class PgTrialRegistry:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def used(self, *, tenant_id: str, customer_id: str | None) -> bool:
        found = await self._conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM checkout.trials_used "
            "WHERE tenant_id = $1 OR ($2::text IS NOT NULL AND stripe_customer_id = $2))",
            tenant_id,
            customer_id,
        )
        return bool(found)

    async def lock(self, tenant_id: str) -> None:
        await self._conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"checkout.trial:{tenant_id}"
        )

    async def record(
        self, *, tenant_id: str, customer_id: str | None, evidence: str, used_at: datetime
    ) -> None:
        await self._conn.execute(
            "INSERT INTO checkout.trials_used (tenant_id, stripe_customer_id, evidence, used_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET stripe_customer_id = "
            "coalesce(checkout.trials_used.stripe_customer_id, EXCLUDED.stripe_customer_id)",
            tenant_id,
            customer_id,
            evidence,
            used_at,
        )


class PgCardSetupLog:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def adopted(self, session_id: str) -> bool:
        found = await self._conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM checkout.card_setups WHERE session_id = $1)", session_id
        )
        return bool(found)

    async def record(
        self, *, session_id: str, tenant_id: str, payment_method_id: str, adopted_at: datetime
    ) -> None:
        await self._conn.execute(
            "INSERT INTO checkout.card_setups "
            "(session_id, tenant_id, stripe_payment_method_id, adopted_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (session_id) DO NOTHING",
            session_id,
            tenant_id,
            payment_method_id,
            adopted_at,
        )


class PgCheckoutUnitOfWork(PgUnitOfWork):
    """One transaction; the repositories and the outbox share its connection."""

    customers: PgCustomerRepository
    sessions: PgCheckoutSessionRepository
    tenant_plans: PgTenantPlanRepository
    trials: PgTrialRegistry
    card_setups: PgCardSetupLog
    outbox: OutboxWriter
    inbox: PgMessageInbox

    def _on_enter(self) -> None:
        conn = self.connection
        self.customers = PgCustomerRepository(conn)
        self.sessions = PgCheckoutSessionRepository(conn)
        self.tenant_plans = PgTenantPlanRepository(conn)
        self.trials = PgTrialRegistry(conn)
        self.card_setups = PgCardSetupLog(conn)
        self.outbox = OutboxWriter(conn, SCHEMA, after_commit=self.after_commit)
        self.inbox = PgMessageInbox(conn, SCHEMA)
