"""The proration dates previews issued (``subscriptions.proration_quotes``), short-lived.

A table rather than a signed token: the contract has the client send back the
preview's ``proration_date`` alone, and every replica sees what any replica issued.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from billing_domain.plans import BillingInterval, PlanType

from subscriptions.schema import SCHEMA

TABLE = f"{SCHEMA}.proration_quotes"
# One round trip: drop what expired by now ($6, the service's clock; indexed), then record
# this quote. Not by the proration date: that is Stripe's now for the subscription, a test
# clock's frozen time when it has one, and a clock moved months ahead dropped every other
# tenant's unexpired quotes.
ISSUE = f"""
WITH expired AS (DELETE FROM {TABLE} WHERE expires_at <= $6)
INSERT INTO {TABLE} (tenant_id, plan, billing_interval, proration_date, expires_at)
VALUES ($1, $2, $5, $3, $4)
ON CONFLICT (tenant_id, plan, billing_interval, proration_date)
DO UPDATE SET expires_at = EXCLUDED.expires_at
"""  # noqa: S608 (identifiers from sql_names, values are parameters)
ISSUED = (
    f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE tenant_id = $1 AND plan = $2 "  # noqa: S608 (identifiers from sql_names, values are parameters)
    "AND proration_date = $3 AND expires_at > $4 AND billing_interval = $5)"
)


class PgProrationQuotes:
    """On the pool (previews) or on a unit of work's connection (plan changes)."""

    def __init__(self, db: asyncpg.Pool | asyncpg.Connection) -> None:
        self._db = db

    async def issue(
        self,
        *,
        tenant_id: str,
        plan: PlanType,
        proration_date: datetime,
        expires_at: datetime,
        now: datetime,
        interval: BillingInterval = BillingInterval.MONTH,
    ) -> None:
        await self._db.execute(
            ISSUE, tenant_id, plan.value, proration_date, expires_at, interval.value, now
        )

    async def issued(
        self,
        *,
        tenant_id: str,
        plan: PlanType,
        proration_date: datetime,
        now: datetime,
        interval: BillingInterval = BillingInterval.MONTH,
    ) -> bool:
        found = await self._db.fetchval(
            ISSUED, tenant_id, plan.value, proration_date, now, interval.value
        )
        return bool(found)
