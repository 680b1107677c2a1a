"""Benchmark: the operators' revenue metrics (``GET /api/billing/admin/metrics``) over
10,000 tenants and a year of ledger, beside a plain aggregate query of the same ledger.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test uv run python -m bench.revenue_metrics

1. creates a database of its own (dropped at the end), applies the analytics migrations
   and fills the ledger with a year of 10,000 tenants (in SQL): each starts paying on a
   day of the year (a third after a trial), a quarter move plan once, 15 % churn, each
   pays a monthly invoice (about 120,000 ``invoice_paid`` facts), 5 % of the renewals fail
   and two thirds of those recover; checkouts, cancellations scheduled, portal sessions;
   then the daily sums the consumer keeps beside the ledger (``REBUILD_DAYS``), which the
   metrics read;
2. answers the year by day, by week and by month through the real route (the app on
   httpx's ASGI transport: JWT, validation, the reader's SQL, the report, the JSON), and
   runs the plain aggregate ``SELECT currency, kind, sum(...) FROM mrr_movements GROUP BY
   1, 2`` on the same database, in rounds whose order alternates, ``--rounds`` times each;
3. prints the medians and p95 (ms; ``bench.loadgen.LoadResult``). Goal (issue 23): the
   metrics under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from analytics.adapters.postgres import REBUILD_DAYS
from analytics.main import create_app
from analytics.schema import MIGRATIONS
from asgi_lifespan import LifespanManager
from billing_domain.auth import ADMIN_SCOPE
from billing_platform.http.tokens import mint_token
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings

from bench.harness import markdown_table, scratch_database
from bench.loadgen import LoadResult, median

SECRET = "bench-secret-0123456789abcdef0123"
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
BASELINE_SQL = (
    "SELECT currency, kind, sum(mrr_after - mrr_before) FROM analytics.mrr_movements GROUP BY 1, 2"
)

SEED = """
WITH t AS (
  SELECT n, 'tenant_' || n AS tenant, (n % 3 = 0) AS trial,
         (ARRAY['usd','usd','usd','eur'])[1 + n % 4] AS currency,
         (ARRAY['solo','team','enterprise'])[1 + n % 3] AS plan,
         (ARRAY[900, 2900, 9900])[1 + n % 3] AS mrr,
         $1::timestamptz + ((n * 7919) % 330) * interval '1 day' + (n % 86400) * interval '1 second'
           AS start
  FROM generate_series(1, $2::int) AS n
)
INSERT INTO analytics.mrr_movements
  (tenant_id, subscription_id, currency, kind, mrr_before, mrr_after, plan_before, plan_after,
   occurred_at, event_id)
SELECT tenant, 'sub_' || n, currency, 'new', 0, mrr, NULL, plan, start, 'evt_new_' || n FROM t
UNION ALL
SELECT tenant, 'sub_' || n, currency, CASE WHEN n % 8 = 0 THEN 'expansion' ELSE 'contraction' END,
       mrr, CASE WHEN n % 8 = 0 THEN mrr * 2 ELSE mrr / 2 END, plan, plan,
       start + interval '20 days', 'evt_move_' || n FROM t WHERE n % 4 = 0
UNION ALL
SELECT tenant, 'sub_' || n, currency, 'churn',
       CASE WHEN n % 4 = 0 THEN (CASE WHEN n % 8 = 0 THEN mrr * 2 ELSE mrr / 2 END) ELSE mrr END,
       0, plan, plan, start + interval '30 days', 'evt_churn_' || n FROM t WHERE n % 20 < 3
"""
SEED_ACTIVITY = """
INSERT INTO analytics.activity (kind, key, tenant_id, currency, amount, occurred_at)
SELECT 'invoice_paid', 'in_' || n || '_' || m, 'tenant_' || n, 'usd', 900,
       $1::timestamptz + ((n * 7919) % 330) * interval '1 day' + m * interval '1 month'
FROM generate_series(1, $2::int) AS n, generate_series(0, 11) AS m
WHERE $1::timestamptz + ((n * 7919) % 330) * interval '1 day' + m * interval '1 month'
      < $1::timestamptz + interval '1 year'
UNION ALL
SELECT k, k || '_' || n, 'tenant_' || n, 'usd', NULL,
       $1::timestamptz + ((n * 7919) % 330) * interval '1 day'
FROM generate_series(1, $2::int) AS n,
     unnest(ARRAY['checkout_created', 'checkout_completed', 'portal_session']) AS k
UNION ALL
SELECT 'trial_started', 'sub_' || n, 'tenant_' || n, 'usd', NULL,
       $1::timestamptz + ((n * 7919) % 330) * interval '1 day' - interval '14 days'
FROM generate_series(1, $2::int) AS n WHERE n % 3 = 0
UNION ALL
SELECT 'cancel_scheduled', 'sub_' || n, 'tenant_' || n, 'usd', NULL,
       $1::timestamptz + ((n * 7919) % 330) * interval '1 day' + interval '10 days'
FROM generate_series(1, $2::int) AS n WHERE n % 20 < 3
"""
SEED_FAILURES = """
INSERT INTO analytics.payment_failures
  (invoice_id, tenant_id, currency, amount_due, failed_at, recovered_at, recovered_amount)
SELECT 'in_f_' || n || '_' || m, 'tenant_' || n, 'usd', 900,
       $1::timestamptz + ((n * 7919 + m * 31) % 360) * interval '1 day',
       CASE WHEN n % 3 > 0 THEN $1::timestamptz + ((n * 7919 + m * 31) % 360) * interval '1 day'
            + (n % 7 + 1) * interval '1 day' END,
       CASE WHEN n % 3 > 0 THEN 900 END
FROM generate_series(1, $2::int) AS n, generate_series(0, 11) AS m
WHERE (n + m) % 20 = 0
"""


async def seed(url: str, tenants: int) -> dict[str, int]:
    await upgrade_async([MIGRATIONS], url)
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(SEED, YEAR_START, tenants)
        await connection.execute(SEED_ACTIVITY, YEAR_START, tenants)
        await connection.execute(SEED_FAILURES, YEAR_START, tenants)
        for statement in REBUILD_DAYS:  # the daily sums the consumer keeps on insert
            await connection.execute(statement)
        await connection.execute("ANALYZE")
        counts = {}
        for table in ("mrr_movements", "activity", "payment_failures"):
            counts[table] = await connection.fetchval(f"SELECT count(*) FROM analytics.{table}")
        return counts
    finally:
        await connection.close()


async def timed(call: Callable[[], Awaitable[int]], into: LoadResult) -> None:
    """One call's latency and HTTP status (0: not HTTP) into ``into``."""
    started = time.perf_counter()
    status = await call()
    into.latencies.append(time.perf_counter() - started)
    into.statuses[status] = into.statuses.get(status, 0) + 1


async def run(args: argparse.Namespace) -> str:
    async with scratch_database() as url:
        counts = await seed(url, args.tenants)
        settings = BillingSettings(database_url=url, jwt_secret=SECRET)
        bus = InMemoryBus()
        app = create_app(settings, bus=bus)
        token = mint_token(SECRET, tenant_id="ops", role="member", scopes=(ADMIN_SCOPE,))
        headers = {"Authorization": f"Bearer {token}"}
        first, last = YEAR_START.date(), (YEAR_START + timedelta(days=364)).date()
        samples: dict[str, LoadResult] = {}
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://a") as client:
                baseline = await asyncpg.connect(url)

                def metrics(interval: str) -> Callable[[], Awaitable[int]]:
                    async def call() -> int:
                        params = {"from": str(first), "to": str(last), "interval": interval}
                        answer = await client.get(
                            "/api/billing/admin/metrics", params=params, headers=headers
                        )
                        answer.raise_for_status()
                        return answer.status_code

                    return call

                async def plain() -> int:
                    await baseline.fetch(BASELINE_SQL)
                    return 0

                calls = {
                    "metrics, a year by day": metrics("day"),
                    "metrics, a year by week": metrics("week"),
                    "metrics, a year by month": metrics("month"),
                    "baseline: plain aggregate of the ledger": plain,
                }
                for call in calls.values():  # warm up caches and pools
                    await call()
                for n in range(args.rounds):  # alternating order: both share the machine's load
                    order = list(calls.items())
                    for name, call in order if n % 2 == 0 else reversed(order):
                        await timed(call, samples.setdefault(name, LoadResult()))
                await baseline.close()
        await bus.close()

    def median_ms(result: LoadResult) -> float:
        return median(result.latencies) * 1000

    base = median_ms(samples["baseline: plain aggregate of the ledger"])
    rows = [
        [
            name,
            f"{median_ms(result):.1f}",
            f"{result.percentile(95):.1f}",
            f"{median_ms(result) / base:.1f}x",
            "< 200 ms" if name.startswith("metrics") else "",
            ("yes" if result.percentile(95) < 200 else "**no**")
            if name.startswith("metrics")
            else "",
        ]
        for name, result in samples.items()
    ]
    facts = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    table = markdown_table(
        ["query", "median ms", "p95 ms", "vs baseline", "goal", "met (p95)?"], rows
    )
    return f"{args.tenants:,} tenants, a year of ledger ({facts}), {args.rounds} rounds\n\n{table}"


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(description=__doc__)
    found.add_argument("--tenants", type=int, default=10_000)
    found.add_argument("--rounds", type=int, default=20)
    return found


if __name__ == "__main__":
    print(asyncio.run(run(parser().parse_args())), file=sys.stdout)
