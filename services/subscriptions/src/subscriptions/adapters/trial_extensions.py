"""The audit of operators' trial extensions (``subscriptions.trial_extensions``).

A row is reserved (``pending``) under the tenant's account lock before Stripe is called,
so two operators extending at once cannot pass the cap together; it becomes ``applied``
with Stripe's answer, or is released when Stripe refused.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from billing_domain.trials import TrialExtension
from billing_platform.sql_names import table_name

from subscriptions.ports import TrialExtensionRecord
from subscriptions.schema import SCHEMA

TABLE = table_name(SCHEMA, "trial_extensions")
TOTAL = f"SELECT coalesce(sum(extend_days), 0) FROM {TABLE} WHERE tenant_id = $1"  # noqa: S608 (identifiers from sql_names, values are parameters)
RESERVE = (
    f"INSERT INTO {TABLE} (tenant_id, stripe_subscription_id, operator_sub, reason, "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "extend_days, previous_trial_end, new_trial_end) VALUES ($1, $2, $3, $4, $5, $6, $7) "
    "RETURNING id"
)
APPLY = f"UPDATE {TABLE} SET status = 'applied', applied_at = $2 WHERE id = $1"  # noqa: S608 (identifiers from sql_names, values are parameters)
RELEASE = f"DELETE FROM {TABLE} WHERE id = $1 AND status = 'pending'"  # noqa: S608 (identifiers from sql_names, values are parameters)
RECENT = (
    f"SELECT id, tenant_id, stripe_subscription_id, operator_sub, reason, extend_days, "  # noqa: S608 (identifiers from sql_names, values are parameters)
    f"previous_trial_end, new_trial_end, status, created_at FROM {TABLE} "
    "WHERE ($1::text IS NULL OR tenant_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2"
)


class PgTrialExtensions:
    """On a unit of work's connection (the use case) or on the pool (the operator's list)."""

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    async def total_days(self, tenant_id: str) -> int:
        return int(await self._db.fetchval(TOTAL, tenant_id))

    async def reserve(
        self,
        *,
        tenant_id: str,
        subscription_id: str,
        operator_sub: str,
        extension: TrialExtension,
    ) -> int:
        found = await self._db.fetchval(
            RESERVE,
            tenant_id,
            subscription_id,
            operator_sub,
            extension.reason,
            extension.extend_days,
            extension.previous_trial_end,
            extension.new_trial_end,
        )
        return int(found)

    async def mark_applied(self, reservation: int, at: datetime) -> None:
        await self._db.execute(APPLY, reservation, at)

    async def release(self, reservation: int) -> None:
        await self._db.execute(RELEASE, reservation)

    async def recent(self, *, tenant_id: str | None, limit: int) -> list[TrialExtensionRecord]:
        rows = await self._db.fetch(RECENT, tenant_id, limit)
        return [
            TrialExtensionRecord(
                id=int(row["id"]),
                tenant_id=row["tenant_id"],
                subscription_id=row["stripe_subscription_id"],
                operator_sub=row["operator_sub"],
                reason=row["reason"],
                extend_days=int(row["extend_days"]),
                previous_trial_end=row["previous_trial_end"],
                new_trial_end=row["new_trial_end"],
                status=row["status"],
                created_at=row["created_at"],
            )
            for row in rows
        ]
