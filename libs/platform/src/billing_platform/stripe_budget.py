"""Each tenant's share of Stripe: a budget shared by replicas, and a fair place in the queue.

Stripe's rate limit (25 requests/s in test mode, 100 live; ``StripeCaller`` keeps a
process below it) belongs to the whole platform. Without a budget per tenant, one
member calling ``verify-session`` in a loop spent it for everybody: 300 calls made
another tenant's checkout take 6.1 s instead of 0.15 s. Every HTTP path that calls
Stripe on a tenant's behalf therefore goes through ``StripeBudget.spend``:

1. **Fair queuing, in process.** A tenant has at most ``concurrency`` requests of a
   bucket calling Stripe at once in a process, and at most ``queue`` more waiting behind
   them; beyond that it is refused at once (no database work). So a tenant waits behind
   itself, never in front of the others: what reaches the process-wide limiter is at
   most ``concurrency`` calls per busy tenant and bucket, served in turn. (Per bucket, so
   a member flooding ``verify-session`` does not queue the owner's checkout either.)
2. **A budget, shared by every replica.** A token bucket per (tenant, bucket) in the
   service's own schema (``<schema>.stripe_budget``), taken and refilled in ONE
   statement (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, the row lock
   serialising replicas) against the database's clock. An empty bucket is a 429
   with ``Retry-After`` (``RateLimited``), the time until a token is back.

Each service keeps its own table (each service owns one schema), so a tenant's
budget is per service; a service's buckets are named by what they guard (checkout's
``sessions`` bucket keeps its own, smaller rate for session creation). A row per
(tenant, bucket) stays, like any per-tenant row; it is a few dozen bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import structlog
from billing_domain.errors import RateLimited

from billing_platform.settings import BillingSettings
from billing_platform.sql_names import schema_name

log = structlog.get_logger("billing_platform.stripe_budget")

STRIPE = "stripe"
"""The bucket of every Stripe-calling request without one of its own."""
QUEUE_FULL_RETRY_S = 1.0


@dataclass(frozen=True, kw_only=True)
class BucketRule:
    burst: int
    """Requests a tenant may make at once after a quiet spell (the bucket's size)."""
    per_minute: float
    """The sustained rate the bucket refills at."""

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_minute <= 0:
            raise ValueError("a bucket needs burst >= 1 and per_minute > 0")


def create_budget_table_sql(schema: str) -> list[str]:
    """DDL for a service's migration."""
    s = schema_name(schema)
    return [
        f"""
        CREATE TABLE {s}.stripe_budget (
            tenant_id   text NOT NULL,
            bucket      text NOT NULL,
            tokens      double precision NOT NULL,
            allowed     boolean NOT NULL,
            updated_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, bucket)
        )"""
    ]


def drop_budget_table_sql(schema: str) -> list[str]:
    return [f"DROP TABLE IF EXISTS {schema_name(schema)}.stripe_budget"]


def _take_sql(schema: str) -> str:
    # $3 burst, $4 tokens per second. ``now()`` is the statement's start; a statement
    # that waited for the row lock behind a later one must not refill backwards.
    refilled = "LEAST($3, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM now() - b.updated_at)) * $4)"
    return f"""
        INSERT INTO {schema_name(schema)}.stripe_budget AS b
            (tenant_id, bucket, tokens, allowed, updated_at)
        VALUES ($1, $2, $3 - 1, true, now())
        ON CONFLICT (tenant_id, bucket) DO UPDATE SET
            allowed = {refilled} >= 1,
            tokens = {refilled} - CASE WHEN {refilled} >= 1 THEN 1 ELSE 0 END,
            updated_at = GREATEST(b.updated_at, now())
        RETURNING allowed, tokens"""  # noqa: S608 (identifiers from sql_names, values are parameters)


class _Lane:
    """One tenant's requests of one bucket in this process: ``concurrency`` run, the rest wait."""

    def __init__(self, concurrency: int) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.members = 0


class StripeBudget:
    """``async with budget.spend(tenant_id, bucket): <call Stripe>``; ``RateLimited`` when over."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        rules: Mapping[str, BucketRule],
        *,
        concurrency: int = 2,
        queue: int = 8,
    ) -> None:
        if concurrency < 1 or queue < 0:
            raise ValueError("concurrency must be >= 1 and queue >= 0")
        self._pool = pool
        self._rules = dict(rules)
        self._sql = _take_sql(schema)
        self._concurrency = concurrency
        self._room = concurrency + queue
        self._lanes: dict[tuple[str, str], _Lane] = {}

    @asynccontextmanager
    async def spend(self, tenant_id: str, bucket: str = STRIPE) -> AsyncIterator[None]:
        rule = self._rules[bucket]
        key = (tenant_id, bucket)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(self._concurrency)
        if lane.members >= self._room:
            log.debug("stripe.budget.queue_full", tenant_id=tenant_id, bucket=bucket)
            raise RateLimited(
                "too many requests to Stripe for this tenant at once; retry shortly",
                retry_after=QUEUE_FULL_RETRY_S,
            )
        lane.members += 1
        try:
            await self._take(tenant_id, bucket, rule)
            async with lane.slots:
                yield
        finally:
            lane.members -= 1
            if lane.members == 0:
                del self._lanes[key]

    async def _take(self, tenant_id: str, bucket: str, rule: BucketRule) -> None:
        per_second = rule.per_minute / 60.0
        row = await self._pool.fetchrow(self._sql, tenant_id, bucket, float(rule.burst), per_second)
        assert row is not None
        if not row["allowed"]:
            wait = (1.0 - float(row["tokens"])) / per_second
            log.debug("stripe.budget.exhausted", tenant_id=tenant_id, bucket=bucket)
            raise RateLimited(
                f"this tenant's budget of Stripe requests ({bucket}) is spent; retry later",
                retry_after=wait,
            )


def budget_from_settings(
    pool: asyncpg.Pool,
    schema: str,
    settings: BillingSettings,
    extra: Mapping[str, BucketRule] | None = None,
) -> StripeBudget:
    """The ``stripe`` bucket and the in-process fairness from ``STRIPE_TENANT_*``."""
    rules = {
        STRIPE: BucketRule(
            burst=settings.stripe_tenant_burst, per_minute=settings.stripe_tenant_per_minute
        ),
        **(extra or {}),
    }
    return StripeBudget(
        pool,
        schema,
        rules,
        concurrency=settings.stripe_tenant_concurrency,
        queue=settings.stripe_tenant_queue,
    )
