"""Each tenant's share of Stripe (billing_platform.stripe_budget) on a real Postgres."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from billing_domain.errors import RateLimited
from billing_platform.stripe_budget import (
    STRIPE,
    BucketRule,
    StripeBudget,
    create_budget_table_sql,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def budget_schema(schema: str, pool: asyncpg.Pool) -> str:
    """The ``schema`` fixture's schema (dropped after the test) with the budget table."""
    for statement in create_budget_table_sql(schema):
        await pool.execute(statement)
    return schema


def budget(pool: asyncpg.Pool, schema: str, **rules: BucketRule) -> StripeBudget:
    return StripeBudget(pool, schema, rules or {STRIPE: BucketRule(burst=3, per_minute=6)})


async def spend(b: StripeBudget, tenant: str, bucket: str = STRIPE) -> None:
    async with b.spend(tenant, bucket):
        pass


async def test_a_burst_then_429_with_the_time_until_a_token_is_back(
    pool: asyncpg.Pool, budget_schema: str
) -> None:
    b = budget(pool, budget_schema)
    for _ in range(3):
        await spend(b, "t-1")
    with pytest.raises(RateLimited) as refused:
        await spend(b, "t-1")
    assert refused.value.code == "rate_limited"
    assert 9.0 < refused.value.retry_after <= 10.0  # 6 a minute: one every 10 s
    await spend(b, "t-2")  # another tenant has its own bucket


async def test_replicas_share_one_budget(pool: asyncpg.Pool, budget_schema: str) -> None:
    one, two = budget(pool, budget_schema), budget(pool, budget_schema)
    await spend(one, "t-1")
    await spend(two, "t-1")
    await spend(one, "t-1")
    with pytest.raises(RateLimited):
        await spend(two, "t-1")


async def test_buckets_are_separate_and_refill(pool: asyncpg.Pool, budget_schema: str) -> None:
    b = budget(
        pool,
        budget_schema,
        stripe=BucketRule(burst=1, per_minute=6000),  # one back every 10 ms
        sessions=BucketRule(burst=1, per_minute=1),
    )
    await spend(b, "t-1", "sessions")
    with pytest.raises(RateLimited):
        await spend(b, "t-1", "sessions")
    await spend(b, "t-1")
    await asyncio.sleep(0.05)
    await spend(b, "t-1")


async def test_concurrent_takes_never_overspend(pool: asyncpg.Pool, budget_schema: str) -> None:
    b = StripeBudget(
        pool, budget_schema, {STRIPE: BucketRule(burst=5, per_minute=1)}, concurrency=50, queue=50
    )
    results = await asyncio.gather(*(spend(b, "t-1") for _ in range(40)), return_exceptions=True)
    assert sum(r is None for r in results) == 5
    assert all(isinstance(r, RateLimited) for r in results if r is not None)


async def test_a_tenant_waits_behind_itself_and_overflow_is_refused_at_once(
    pool: asyncpg.Pool, budget_schema: str
) -> None:
    rule = BucketRule(burst=100, per_minute=60)
    b = StripeBudget(pool, budget_schema, {STRIPE: rule, "sessions": rule}, concurrency=1, queue=1)
    release = asyncio.Event()
    order: list[str] = []

    async def call(tenant: str, name: str) -> None:
        async with b.spend(tenant):
            order.append(name)
            if name == "a1":
                await release.wait()

    first = asyncio.create_task(call("a", "a1"))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(call("a", "a2"))  # queued behind a1
    await asyncio.sleep(0.05)
    with pytest.raises(RateLimited) as full:  # a1 runs, a2 waits: no room for a third
        await call("a", "a3")
    assert full.value.retry_after == 1.0
    await call("b", "b1")  # another tenant is not behind tenant a
    async with b.spend("a", "sessions"):  # nor is tenant a's other bucket (the owner's checkout)
        order.append("a-sessions")
    assert order == ["a1", "b1", "a-sessions"]
    release.set()
    await asyncio.gather(first, second)
    assert order == ["a1", "b1", "a-sessions", "a2"]
    await call("a", "a4")  # the lane emptied and is forgotten
