"""Issued proration dates on real Postgres (subscriptions.proration_quotes)."""

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from billing_domain.plans import BillingInterval, PlanType
from subscriptions.adapters.proration_quotes import PgProrationQuotes
from subscriptions.testing import Builders

pytestmark = pytest.mark.integration

TTL = timedelta(minutes=10)


async def test_a_quote_dated_on_a_test_clock_far_ahead_drops_no_other_tenants_quote(
    pool: asyncpg.Pool, build: type[Builders]
) -> None:
    """Expiry is read on the service's clock: a preview whose proration date is a test
    clock's time two years ahead once deleted every unexpired quote (a 422
    proration_date_not_issued for the tenant who had just previewed)."""
    quotes = PgProrationQuotes(pool)
    now = datetime.now(UTC).replace(microsecond=0)
    owner, other = build.tenant(), build.tenant()
    owners_date = now - timedelta(seconds=5)
    await quotes.issue(
        tenant_id=owner,
        plan=PlanType.TEAM,
        proration_date=owners_date,
        expires_at=now + TTL,
        now=now,
    )
    clock_ahead = now + timedelta(days=730)
    await quotes.issue(
        tenant_id=other,
        plan=PlanType.TEAM,
        proration_date=clock_ahead,
        expires_at=now + TTL,
        now=now,
    )
    for tenant, date in ((owner, owners_date), (other, clock_ahead)):
        assert await quotes.issued(
            tenant_id=tenant, plan=PlanType.TEAM, proration_date=date, now=now
        )


async def test_expired_quotes_are_refused_and_dropped_on_the_next_issue(
    pool: asyncpg.Pool, build: type[Builders]
) -> None:
    quotes = PgProrationQuotes(pool)
    now = datetime.now(UTC).replace(microsecond=0)
    tenant = build.tenant()
    await quotes.issue(
        tenant_id=tenant, plan=PlanType.SOLO, proration_date=now, expires_at=now + TTL, now=now
    )
    later = now + TTL
    assert not await quotes.issued(
        tenant_id=tenant, plan=PlanType.SOLO, proration_date=now, now=later
    )
    assert not await quotes.issued(
        tenant_id=tenant,
        plan=PlanType.SOLO,
        proration_date=now,
        now=now,
        interval=BillingInterval.YEAR,
    )
    await quotes.issue(
        tenant_id=build.tenant(),
        plan=PlanType.SOLO,
        proration_date=later,
        expires_at=later + TTL,
        now=later,
    )
    left = await pool.fetchval(
        "SELECT count(*) FROM subscriptions.proration_quotes WHERE tenant_id = $1", tenant
    )
    assert left == 0
