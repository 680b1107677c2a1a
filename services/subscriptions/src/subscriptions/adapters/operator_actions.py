"""Postgres adapters of the operators' audit (``operator_actions``) and of the last email
each tenant was sent (``last_notifications``, from ``notification.sent``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from billing_domain.payment_recovery import ActionOutcome, OperatorAction
from billing_platform.sql_names import column_list, table_name

from subscriptions.ports import ActionRecord, LastEmail
from subscriptions.schema import SCHEMA

ACTIONS = table_name(SCHEMA, "operator_actions")
EMAILS = table_name(SCHEMA, "last_notifications")
ACTION_COLUMNS = (
    "id",
    "tenant_id",
    "action",
    "operator_sub",
    "requested_at",
    "outcome",
    "detail",
    "stripe_invoice_id",
    "settled_at",
    "reason",
)
TENANT_ACTIONS = (
    f"SELECT {column_list(ACTION_COLUMNS)} FROM {ACTIONS} "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
)
RECORD_ACTION = (
    f"INSERT INTO {ACTIONS} (tenant_id, action, operator_sub, requested_at, outcome, "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "stripe_invoice_id, request_id, detail, reason, settled_at) "
    "VALUES ($1, $2, $3, $4::timestamptz, $5::text, $6, $7, $8, $9, "
    "CASE WHEN $5::text = 'pending' THEN NULL ELSE $4::timestamptz END) "
    "RETURNING id"
)
SETTLE_ACTION = f"UPDATE {ACTIONS} SET outcome = $2, detail = $3, settled_at = $4 WHERE id = $1"  # noqa: S608 (identifiers from sql_names, values are parameters)
RECORD_EMAIL = (
    f"INSERT INTO {EMAILS} AS kept (tenant_id, kind, subject_id, recipient, status, sent_at, "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "message_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id) DO UPDATE SET "
    "kind = EXCLUDED.kind, subject_id = EXCLUDED.subject_id, recipient = EXCLUDED.recipient, "
    "status = EXCLUDED.status, sent_at = EXCLUDED.sent_at, message_id = EXCLUDED.message_id "
    "WHERE (kept.sent_at, kept.message_id) < (EXCLUDED.sent_at, EXCLUDED.message_id)"
)


def action_from_row(row: asyncpg.Record, prefix: str = "") -> ActionRecord:
    return ActionRecord(
        id=int(row[f"{prefix}id"]),
        tenant_id=row[f"{prefix}tenant_id"],
        action=OperatorAction(row[f"{prefix}action"]),
        operator_sub=row[f"{prefix}operator_sub"],
        requested_at=row[f"{prefix}requested_at"],
        outcome=row[f"{prefix}outcome"],
        detail=row[f"{prefix}detail"],
        stripe_invoice_id=row[f"{prefix}stripe_invoice_id"],
        settled_at=row[f"{prefix}settled_at"],
        reason=row[f"{prefix}reason"],
    )


class PgOperatorActionLog:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._conn = connection

    async def record(
        self,
        *,
        tenant_id: str,
        action: OperatorAction,
        operator_sub: str,
        requested_at: datetime,
        outcome: ActionOutcome,
        stripe_invoice_id: str | None,
        request_id: str,
        detail: str | None = None,
        reason: str | None = None,
    ) -> int:
        found: Any = await self._conn.fetchval(
            RECORD_ACTION,
            tenant_id,
            action.value,
            operator_sub,
            requested_at,
            outcome.value,
            stripe_invoice_id,
            request_id,
            detail,
            reason,
        )
        return int(found)

    async def settle(
        self, action_id: int, *, outcome: ActionOutcome, detail: str | None, settled_at: datetime
    ) -> None:
        await self._conn.execute(SETTLE_ACTION, action_id, outcome.value, detail, settled_at)


class PgLastEmails:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self._conn = connection

    async def record(self, tenant_id: str, email: LastEmail, *, message_id: str) -> None:
        await self._conn.execute(
            RECORD_EMAIL,
            tenant_id,
            email.kind,
            email.subject_id,
            email.to,
            email.status,
            email.sent_at,
            message_id,
        )
