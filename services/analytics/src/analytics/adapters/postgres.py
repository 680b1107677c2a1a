"""Postgres adapters (asyncpg): the unit of work, the ledger and its reader."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
from billing_domain.plans import PlanType
from billing_domain.revenue import MovementKind
from billing_domain.status import SubscriptionStatus
from billing_platform.db import PgUnitOfWork
from billing_platform.messaging.inbox import PgMessageInbox
from billing_platform.sql_names import (
    column_list,
    excluded_assignments,
    in_column_order,
    insert_sql,
    table_name,
)

from analytics.ports import (
    Activity,
    ActivityDay,
    ActivityKind,
    FailureDay,
    Kpis,
    LedgerDays,
    Movement,
    MovementDay,
    PaymentFailure,
    PlanDay,
    TenantRevenue,
)
from analytics.schema import SCHEMA

_STATES = table_name(SCHEMA, "tenant_revenue")
_STATE_COLUMNS = (
    "tenant_id",
    "subscription_id",
    "status",
    "plan",
    "currency",
    "amount",
    "billing_interval",
    "mrr",
    "cancel_at_period_end",
    "paid_before",
    "as_of",
    "as_of_event",
)
_SAVE_STATE = (
    f"{insert_sql(_STATES, _STATE_COLUMNS)} ON CONFLICT (tenant_id) DO UPDATE SET "
    f"{excluded_assignments(_STATE_COLUMNS[1:])}, updated_at = now()"
)
_SELECT_STATE = (
    f"SELECT {column_list(_STATE_COLUMNS)} FROM {_STATES} WHERE tenant_id = $1 FOR UPDATE"  # noqa: S608 (identifiers from sql_names, values are parameters)
)

_MOVEMENTS = table_name(SCHEMA, "mrr_movements")
_MOVEMENT_COLUMNS = (
    "tenant_id",
    "subscription_id",
    "currency",
    "kind",
    "mrr_before",
    "mrr_after",
    "plan_before",
    "plan_after",
    "occurred_at",
    "event_id",
)
_INSERT_MOVEMENT = f"{insert_sql(_MOVEMENTS, _MOVEMENT_COLUMNS)} ON CONFLICT DO NOTHING"

_ACTIVITY = table_name(SCHEMA, "activity")
_ACTIVITY_COLUMNS = ("kind", "key", "tenant_id", "currency", "amount", "occurred_at")
_INSERT_ACTIVITY = (
    f"{insert_sql(_ACTIVITY, _ACTIVITY_COLUMNS)} ON CONFLICT DO NOTHING RETURNING true"
)

_FAILURES = table_name(SCHEMA, "payment_failures")
_FAILURE_COLUMNS = ("invoice_id", "tenant_id", "currency", "amount_due", "failed_at")
_INSERT_FAILURE = f"{insert_sql(_FAILURES, _FAILURE_COLUMNS)} ON CONFLICT DO NOTHING RETURNING true"
_OPEN_FAILURE = "invoice_id = $1 AND recovered_at IS NULL AND closed_at IS NULL"
_RECOVER = (
    f"UPDATE {_FAILURES} SET recovered_at = $2, recovered_amount = $3 "  # noqa: S608 (identifiers from sql_names, values are parameters)
    f"WHERE {_OPEN_FAILURE} AND failed_at <= $2 RETURNING failed_at, currency, "
    "((extract(epoch FROM recovered_at) - extract(epoch FROM failed_at)) * 1000000)::bigint"
    " AS wait"
)
_CLOSE = f"UPDATE {_FAILURES} SET closed_at = $2 WHERE {_OPEN_FAILURE} RETURNING true"  # noqa: S608 (identifiers from sql_names, values are parameters)

_MOVEMENT_DAYS = (
    "SELECT day, currency, kind, delta, logos FROM analytics.movement_days WHERE day < $1"
)
_PLAN_DAYS = "SELECT day, currency, plan, change FROM analytics.plan_days WHERE day < $1"
_ACTIVITY_DAYS = (
    "SELECT day, kind, nullif(currency, '') AS currency, count FROM analytics.activity_days "
    "WHERE day >= $1 AND day < $2"
)
_FAILURE_DAYS = (
    "SELECT day, currency, failed, failed_amount, recovered, recovered_amount, waits "
    "FROM analytics.failure_days WHERE day >= $1 AND day < $2"
)
REBUILD_DAYS = (
    "TRUNCATE analytics.movement_days, analytics.plan_days, analytics.activity_days",
    "INSERT INTO analytics.movement_days (day, currency, kind, delta, logos) "
    "SELECT (occurred_at AT TIME ZONE 'UTC')::date, currency, kind, "
    "sum(mrr_after - mrr_before), sum((mrr_after > 0)::int - (mrr_before > 0)::int) "
    "FROM analytics.mrr_movements GROUP BY 1, 2, 3",
    "INSERT INTO analytics.plan_days (day, currency, plan, change) "
    "SELECT day, currency, plan, sum(change) FROM ("
    " SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, currency, plan_after AS plan,"
    "  1 AS change FROM analytics.mrr_movements WHERE mrr_after > 0"
    " UNION ALL SELECT (occurred_at AT TIME ZONE 'UTC')::date, currency, plan_before, -1"
    "  FROM analytics.mrr_movements WHERE mrr_before > 0"
    ") AS changes GROUP BY 1, 2, 3",
    "INSERT INTO analytics.activity_days (day, kind, currency, count) "
    "SELECT (occurred_at AT TIME ZONE 'UTC')::date, kind, coalesce(currency, ''), count(*) "
    "FROM analytics.activity GROUP BY 1, 2, 3",
    "TRUNCATE analytics.failure_days",
    "INSERT INTO analytics.failure_days "
    "(day, currency, failed, failed_amount, recovered, recovered_amount, waits) "
    "SELECT (failed_at AT TIME ZONE 'UTC')::date, currency, count(*), sum(amount_due), "
    "count(recovered_at), "
    "coalesce(sum(recovered_amount) FILTER (WHERE recovered_at IS NOT NULL), 0), "
    "coalesce(array_agg(((extract(epoch FROM recovered_at) - extract(epoch FROM failed_at)) "
    "* 1000000)::bigint) FILTER (WHERE recovered_at IS NOT NULL), '{}') "
    "FROM analytics.payment_failures GROUP BY 1, 2",
)
"""The daily sums recomputed from the ledger (a rebuild; the bench's seeding)."""

_ADD_MOVEMENT_DAY = (
    "INSERT INTO analytics.movement_days AS d (day, currency, kind, delta, logos) "
    "VALUES (($1::timestamptz AT TIME ZONE 'UTC')::date, $2, $3, $4, $5) "
    "ON CONFLICT (day, currency, kind) DO UPDATE "
    "SET delta = d.delta + EXCLUDED.delta, logos = d.logos + EXCLUDED.logos"
)
_ADD_PLAN_DAY = (
    "INSERT INTO analytics.plan_days AS d (day, currency, plan, change) "
    "VALUES (($1::timestamptz AT TIME ZONE 'UTC')::date, $2, $3, $4) "
    "ON CONFLICT (day, currency, plan) DO UPDATE SET change = d.change + EXCLUDED.change"
)
_ADD_ACTIVITY_DAY = (
    "INSERT INTO analytics.activity_days AS d (day, kind, currency, count) "
    "VALUES (($1::timestamptz AT TIME ZONE 'UTC')::date, $2, coalesce($3, ''), 1) "
    "ON CONFLICT (day, kind, currency) DO UPDATE SET count = d.count + 1"
)
_KINDS = {kind.value: kind for kind in MovementKind}
_PLANS = {plan.value: plan for plan in PlanType}
MICROSECONDS = 1_000_000
"""A wait in microseconds over this is ``timedelta.total_seconds()``, to the bit."""

_ADD_FAILURE_DAY = (
    "INSERT INTO analytics.failure_days AS d (day, currency, failed, failed_amount) "
    "VALUES (($1::timestamptz AT TIME ZONE 'UTC')::date, $2, 1, $3) "
    "ON CONFLICT (day, currency) DO UPDATE "
    "SET failed = d.failed + 1, failed_amount = d.failed_amount + EXCLUDED.failed_amount"
)
_ADD_RECOVERY_DAY = (
    "INSERT INTO analytics.failure_days AS d (day, currency, recovered, recovered_amount, waits) "
    "VALUES (($1::timestamptz AT TIME ZONE 'UTC')::date, $2, 1, $3, ARRAY[$4::bigint]) "
    "ON CONFLICT (day, currency) DO UPDATE SET recovered = d.recovered + 1, "
    "recovered_amount = d.recovered_amount + EXCLUDED.recovered_amount, "
    "waits = d.waits || EXCLUDED.waits"
)

_MRR_NOW = (
    f"SELECT currency, sum(mrr)::bigint AS mrr, count(*) AS paying FROM {_STATES} "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "WHERE mrr > 0 AND currency IS NOT NULL GROUP BY currency"
)
_ATTEMPTS = (
    f"SELECT kind, count(*) AS count FROM {_ACTIVITY} "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "WHERE occurred_at > $1::timestamptz - interval '1 hour' "
    "AND occurred_at <= $1::timestamptz AND kind = ANY($2::text[]) "
    "GROUP BY kind"
)


def _state(row: asyncpg.Record) -> TenantRevenue:
    return TenantRevenue(
        tenant_id=row["tenant_id"],
        subscription_id=row["subscription_id"],
        status=SubscriptionStatus(row["status"]),
        plan=PlanType(row["plan"]),
        currency=row["currency"],
        amount=row["amount"],
        interval=row["billing_interval"],
        mrr=row["mrr"],
        cancel_at_period_end=row["cancel_at_period_end"],
        paid_before=row["paid_before"],
        as_of=row["as_of"],
        as_of_event=row["as_of_event"],
    )


class PgRevenueLedger:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def state(self, tenant_id: str) -> TenantRevenue | None:
        row = await self._conn.fetchrow(_SELECT_STATE, tenant_id)
        return None if row is None else _state(row)

    async def save_state(self, state: TenantRevenue) -> None:
        values = {
            "tenant_id": state.tenant_id,
            "subscription_id": state.subscription_id,
            "status": state.status.value,
            "plan": state.plan.value,
            "currency": state.currency,
            "amount": state.amount,
            "billing_interval": state.interval,
            "mrr": state.mrr,
            "cancel_at_period_end": state.cancel_at_period_end,
            "paid_before": state.paid_before,
            "as_of": state.as_of,
            "as_of_event": state.as_of_event,
        }
        await self._conn.execute(_SAVE_STATE, *in_column_order(values, _STATE_COLUMNS))

    async def add_movements(self, movements: Sequence[Movement]) -> int:
        added = 0
        for movement in movements:
            values = {
                "tenant_id": movement.tenant_id,
                "subscription_id": movement.subscription_id,
                "currency": movement.currency,
                "kind": movement.kind.value,
                "mrr_before": movement.mrr_before,
                "mrr_after": movement.mrr_after,
                "plan_before": None if movement.plan_before is None else movement.plan_before.value,
                "plan_after": None if movement.plan_after is None else movement.plan_after.value,
                "occurred_at": movement.occurred_at,
                "event_id": movement.event_id,
            }
            status = await self._conn.execute(
                _INSERT_MOVEMENT, *in_column_order(values, _MOVEMENT_COLUMNS)
            )
            if status.endswith(" 1"):
                added += 1
                await self._add_to_days(movement)
        return added

    async def _add_to_days(self, m: Movement) -> None:
        logos = int(m.mrr_after > 0) - int(m.mrr_before > 0)
        delta = m.mrr_after - m.mrr_before
        await self._conn.execute(
            _ADD_MOVEMENT_DAY, m.occurred_at, m.currency, m.kind.value, delta, logos
        )
        if m.mrr_after > 0 and m.plan_after is not None:
            await self._conn.execute(
                _ADD_PLAN_DAY, m.occurred_at, m.currency, m.plan_after.value, 1
            )
        if m.mrr_before > 0 and m.plan_before is not None:
            await self._conn.execute(
                _ADD_PLAN_DAY, m.occurred_at, m.currency, m.plan_before.value, -1
            )

    async def add_activity(self, activity: Activity) -> bool:
        values = {
            "kind": activity.kind,
            "key": activity.key,
            "tenant_id": activity.tenant_id,
            "currency": activity.currency,
            "amount": activity.amount,
            "occurred_at": activity.occurred_at,
        }
        added = bool(
            await self._conn.fetchval(_INSERT_ACTIVITY, *in_column_order(values, _ACTIVITY_COLUMNS))
        )
        if added:
            await self._conn.execute(
                _ADD_ACTIVITY_DAY, activity.occurred_at, activity.kind, activity.currency
            )
        return added

    async def payment_failed(self, failure: PaymentFailure) -> bool:
        values = {
            "invoice_id": failure.invoice_id,
            "tenant_id": failure.tenant_id,
            "currency": failure.currency,
            "amount_due": failure.amount_due,
            "failed_at": failure.failed_at,
        }
        added = bool(
            await self._conn.fetchval(_INSERT_FAILURE, *in_column_order(values, _FAILURE_COLUMNS))
        )
        if added:
            await self._conn.execute(
                _ADD_FAILURE_DAY, failure.failed_at, failure.currency, failure.amount_due
            )
        return added

    async def payment_recovered(self, invoice_id: str, *, at: datetime, amount: int) -> bool:
        recovered = await self._conn.fetchrow(_RECOVER, invoice_id, at, amount)
        if recovered is None:
            return False
        await self._conn.execute(
            _ADD_RECOVERY_DAY,
            recovered["failed_at"],
            recovered["currency"],
            amount,
            recovered["wait"],
        )
        return True

    async def payment_closed(self, invoice_id: str, *, at: datetime) -> bool:
        return bool(await self._conn.fetchval(_CLOSE, invoice_id, at))


class PgAnalyticsUnitOfWork(PgUnitOfWork):
    """One transaction; the ledger and the inbox share its connection."""

    ledger: PgRevenueLedger
    inbox: PgMessageInbox

    def _on_enter(self) -> None:
        self.ledger = PgRevenueLedger(self.connection)
        self.inbox = PgMessageInbox(self.connection, SCHEMA)


class PgMetricsReader:
    """Daily sums of the ledger, read on one pooled connection (a consistent snapshot)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def ledger_days(self, *, since: datetime, until: datetime) -> LedgerDays:
        first, end = since.date(), until.date()
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            movements = await conn.fetch(_MOVEMENT_DAYS, end)
            plans = await conn.fetch(_PLAN_DAYS, end)
            activity = await conn.fetch(_ACTIVITY_DAYS, first, end)
            failures = await conn.fetch(_FAILURE_DAYS, first, end)
        return LedgerDays(
            movements=[
                MovementDay(day, currency, _KINDS[kind], delta, logos)
                for day, currency, kind, delta, logos in movements
            ],
            plans=[
                PlanDay(day, currency, _PLANS[plan], change)
                for day, currency, plan, change in plans
            ],
            activity=[ActivityDay(*row) for row in activity],
            failures=[
                FailureDay(
                    day,
                    currency,
                    failed,
                    failed_amount,
                    recovered,
                    recovered_amount,
                    [micros / MICROSECONDS for micros in waits],
                )
                for day, currency, failed, failed_amount, recovered, recovered_amount, waits in (
                    failures
                )
            ],
        )

    async def kpis(self, now: datetime) -> Kpis:
        kinds = [ActivityKind.INVOICE_PAID, ActivityKind.PAYMENT_ATTEMPT_FAILED]
        async with self._pool.acquire() as conn:
            balances = await conn.fetch(_MRR_NOW)
            attempts = {r["kind"]: r["count"] for r in await conn.fetch(_ATTEMPTS, now, kinds)}
        return Kpis(
            mrr={r["currency"]: r["mrr"] for r in balances},
            paying={r["currency"]: r["paying"] for r in balances},
            invoices_paid_1h=attempts.get(ActivityKind.INVOICE_PAID, 0),
            payment_attempts_failed_1h=attempts.get(ActivityKind.PAYMENT_ATTEMPT_FAILED, 0),
        )
