"""Postgres adapter of the failed-payment queue's listing (the projection, the last email
and the last operator action of each tenant, in one query)."""

from __future__ import annotations

import asyncpg

from subscriptions.adapters.operator_actions import (
    ACTION_COLUMNS,
    ACTIONS,
    EMAILS,
    TENANT_ACTIONS,
    action_from_row,
)
from subscriptions.adapters.postgres import ACCOUNT_COLUMNS, account_from_row
from subscriptions.adapters.postgres import TABLE as ACCOUNTS
from subscriptions.ports import ActionRecord, LastEmail, PastDueQuery, PastDueRow

_ACCOUNT = ", ".join(f"a.{name}" for name in ACCOUNT_COLUMNS)
_ACTION = ", ".join(f"x.{name} AS action_{name}" for name in ACTION_COLUMNS)
_AMOUNT = "COALESCE(a.failed_amount_due, -1)"

PAST_DUE = (
    f"SELECT {_ACCOUNT}, "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "e.kind AS email_kind, e.subject_id AS email_subject_id, e.recipient AS email_to, "
    f"e.status AS email_status, e.sent_at AS email_sent_at, {_ACTION} "
    f"FROM {ACCOUNTS} a LEFT JOIN {EMAILS} e ON e.tenant_id = a.tenant_id "
    f"LEFT JOIN LATERAL (SELECT * FROM {ACTIONS} o WHERE o.tenant_id = a.tenant_id "
    "ORDER BY o.id DESC LIMIT 1) x ON true "
    "WHERE a.status = ANY($1::text[]) "
    "AND a.status IN ('past_due', 'unpaid', 'incomplete', 'paused') "
    "AND ($2::text IS NULL OR a.failed_currency = $2) "
    "AND ($6::text IS NULL OR a.tenant_id = $6) "
    f"AND ($3::bigint IS NULL OR {_AMOUNT} < $3 OR ({_AMOUNT} = $3 AND a.tenant_id > $4)) "
    f"ORDER BY {_AMOUNT} DESC, a.tenant_id LIMIT $5"
)


def _row(row: asyncpg.Record) -> PastDueRow:
    email = None
    if row["email_kind"] is not None:
        email = LastEmail(
            kind=row["email_kind"],
            subject_id=row["email_subject_id"],
            to=row["email_to"],
            status=row["email_status"],
            sent_at=row["email_sent_at"],
        )
    action = None if row["action_id"] is None else action_from_row(row, "action_")
    return PastDueRow(account=account_from_row(row), last_email=email, last_action=action)


class PgPaymentQueueReader:
    """Reads straight from the pool (no transaction), like the subscription read."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def past_due(self, query: PastDueQuery) -> list[PastDueRow]:
        after = query.after
        rows = await self._pool.fetch(
            PAST_DUE,
            [status.value for status in query.statuses],
            query.currency,
            None if after is None else after.amount,
            None if after is None else after.tenant_id,
            query.limit,
            query.tenant_id,
        )
        return [_row(row) for row in rows]

    async def actions(
        self, tenant_id: str, *, before: int | None, limit: int
    ) -> list[ActionRecord]:
        rows = await self._pool.fetch(TENANT_ACTIONS, tenant_id, before, limit)
        return [action_from_row(row) for row in rows]
