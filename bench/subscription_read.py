"""Benchmark: the tenant reads (``GET /api/billing/subscription``, ``/payment-methods``,
``/invoices``, ``/entitlements``) beside a minimal asyncpg primary-key endpoint.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test uv run python -m bench.subscription_read

What it does, all in one run so both sides see the same machine:

1. creates a database of its own (dropped at the end), applies the subscriptions
   migrations and fills ``subscriptions.billing_accounts`` with 10,000 tenants (each
   paid one with 2 cards and 12 invoices in the self-service projections);
2. starts a stand-in Stripe API that only counts requests (``STRIPE_API_BASE``);
3. starts two uvicorn processes (one worker each, same flags): the subscriptions
   service (real app: JWT, middleware, metrics, projection read) and a minimal
   FastAPI app whose endpoint does one asyncpg primary-key select;
4. drives each with a keep-alive HTTP/1.1 load generator: a closed loop at a fixed
   concurrency (maximum requests/s, with p50/p99), then an open loop at a fixed
   rate (500 requests/s by default; latency counted from the scheduled start, so
   queueing is not hidden), in short alternating rounds so that both sides share
   whatever else the machine is doing;
5. prints a table, the ratio to the baseline and the Stripe calls counted.

It asserts nothing: the figures depend on the machine. Targets (issue 6): at least
60 % of the baseline's requests/s, p99 under 30 ms at 500 requests/s, zero Stripe calls;
issue 21 measures the card list and the first page of invoices (20) on the same server
against the same targets, and issue 19 the entitlements read (every tenant, free ones too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
from collections.abc import AsyncIterator, Sequence

from billing_platform.testing.processes import free_port
from billing_platform.testing.serve_tokens import serve_jwt_env

from bench.harness import python_module, scratch_database, server
from bench.loadgen import (
    LoadResult,
    Target,
    alternating_rounds,
    closed_loop,
    cycling,
    get_request,
)
from bench.self_service_data import seed_self_service

JWT_SECRET = "bench-secret-0123456789-abcdefghijklmnop"
PLANS = ("free", "solo", "team", "enterprise")
STATUSES = ("active", "trialing", "past_due", "canceled")


# -- the two servers (run as subprocesses of this script) ---------------------------------


def baseline_app() -> object:
    """The minimal endpoints: one asyncpg primary-key select, the row as JSON; and for
    the invoices page, the same 20-row select its reader makes, the rows as JSON."""
    import asyncpg
    from fastapi import FastAPI

    pool: dict[str, asyncpg.Pool] = {}

    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool["p"] = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=10)
        yield
        await pool["p"].close()

    app = FastAPI(lifespan=contextlib.asynccontextmanager(lifespan))

    @app.get("/baseline")
    async def read(tenant_id: str) -> dict[str, object]:
        row = await pool["p"].fetchrow(
            "SELECT tenant_id, plan, status, cancel_at_period_end, current_period_end "
            "FROM subscriptions.billing_accounts WHERE tenant_id = $1",
            tenant_id,
        )
        return dict(row) if row else {}

    @app.get("/baseline/invoices")
    async def invoices(tenant_id: str) -> dict[str, object]:
        rows = await pool["p"].fetch(
            "SELECT invoice_id, number, status, total, amount_due, currency, period_start, "
            "period_end, invoice_created, hosted_invoice_url, invoice_pdf "
            "FROM subscriptions.invoices WHERE tenant_id = $1 "
            "ORDER BY invoice_created DESC NULLS LAST, invoice_id DESC LIMIT 21",
            tenant_id,
        )
        return {"invoices": [dict(row) for row in rows[:20]], "next_cursor": None}

    return app


def subscriptions_app() -> object:
    from billing_platform.logs import configure_logging
    from billing_platform.settings import load_settings
    from subscriptions.main import create_app

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)


def serve(which: str, port: int) -> None:
    import uvicorn

    app = baseline_app() if which == "baseline" else subscriptions_app()
    uvicorn.run(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


# -- a stand-in Stripe that only counts ---------------------------------------------------


class StripeCounter:
    def __init__(self) -> None:
        self.requests = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while await reader.readuntil(b"\r\n\r\n"):
                self.requests += 1
                body = b'{"error": {"type": "api_error", "message": "bench stub"}}'
                writer.write(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


# -- database -------------------------------------------------------------------------------


async def seed(url: str, tenants: int) -> list[str]:
    """The subscriptions schema with ``tenants`` accounts, every plan and status."""
    import asyncpg
    from billing_platform.migrations import upgrade_async
    from subscriptions.schema import MIGRATIONS

    await upgrade_async([MIGRATIONS], url)
    ids = [f"tenant_{i:05d}" for i in range(tenants)]
    conn = await asyncpg.connect(url)
    try:
        rng = random.Random(1)
        rows = []
        for i, tenant in enumerate(ids):
            plan = PLANS[i % len(PLANS)]
            paid = plan != "free"
            rows.append(
                (
                    tenant,
                    f"cus_{i}" if paid else None,
                    f"sub_{i}" if paid else None,
                    plan,
                    rng.choice(STATUSES) if paid else "active",
                    paid and i % 7 == 0,
                )
            )
        await conn.copy_records_to_table(
            "billing_accounts",
            schema_name="subscriptions",
            records=rows,
            columns=[
                "tenant_id",
                "stripe_customer_id",
                "stripe_subscription_id",
                "plan",
                "status",
                "cancel_at_period_end",
            ],
        )
        await conn.execute(
            "UPDATE subscriptions.billing_accounts SET current_period_end = now() + interval "
            "'20 days' WHERE stripe_subscription_id IS NOT NULL"
        )
        await seed_self_service(conn, [row[0] for row in rows if row[1]])
        await conn.execute("ANALYZE subscriptions.billing_accounts")
    finally:
        await conn.close()
    return ids


def requests_for(kind: str, port: int, tenants: Sequence[str], count: int) -> list[bytes]:
    from billing_platform.testing.serve_tokens import mint_serve_token

    rng = random.Random(2)
    chosen = [rng.choice(tenants) for _ in range(count)]
    out = []
    for tenant in chosen:
        if kind in BASELINE_PATHS:
            path = f"{BASELINE_PATHS[kind]}?tenant_id={tenant}"
            out.append(get_request("127.0.0.1", port, path, {}))
        else:
            token = mint_serve_token(JWT_SECRET, tenant_id=tenant, role="member", ttl_seconds=7200)
            headers = {"Authorization": f"Bearer {token}"}
            out.append(get_request("127.0.0.1", port, PATHS[kind], headers))
    return out


def paid_tenants(tenants: Sequence[str], kind: str) -> Sequence[str]:
    """Cards and invoices are read for tenants that have some (every plan but free)."""
    if kind not in (*SAME_SERVER, "baseline_invoices") or kind in EVERY_TENANT:
        return tenants
    return [t for i, t in enumerate(tenants) if PLANS[i % len(PLANS)] != "free"]


def table(results: list[tuple[str, str, LoadResult]]) -> str:
    header = (
        f"{'endpoint':<34} {'mode':<18} {'requests':>9} {'errors':>7} {'req/s':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8}"
    )
    lines = [header, "-" * len(header)]
    for name, mode, r in results:
        lines.append(
            f"{name:<34} {mode:<18} {r.count:>9} {r.non_2xx:>7} {r.rate:>9.0f} "
            f"{r.percentile(50):>8.2f} {r.percentile(99):>8.2f}"
        )
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> int:
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    async with scratch_database() as url:
        print(f"seeding {args.tenants} tenants ...", flush=True)
        tenants = await seed(url, args.tenants)
        stripe = StripeCounter()
        await stripe.start()
        try:
            results = await measure(args, url, tenants, stripe)
        finally:
            await stripe.stop()
    maxima, fixed = results
    base, ours = maxima[LABELS["baseline"]], maxima[LABELS["subscriptions"]]
    print()
    print(
        table(
            [(label, f"max, {args.concurrency} conns", r) for label, r in maxima.items()]
            + [(label, f"fixed {args.rate:.0f}/s", r) for label, r in fixed.items()]
        )
    )
    ratio = ours.rate / base.rate if base.rate else 0
    print()
    print(f"tenants in the table:           {args.tenants}")
    print(f"subscription / baseline req/s:  {ratio:.0%}   (target >= 60%)")
    p99 = fixed[LABELS["subscriptions"]].percentile(99)
    print(f"p99 at {args.rate:.0f} req/s:              {p99:.2f} ms   (target < 30 ms)")
    rows_base = maxima[LABELS["baseline_invoices"]]
    for kind in SAME_SERVER:
        read = maxima[LABELS[kind]]
        share = read.rate / base.rate if base.rate else 0
        alike = ""
        if kind == "invoices" and rows_base.rate:
            alike = f" ({read.rate / rows_base.rate:.0%} of the 20-row select)"
        print(
            f"{kind.replace('_', '-')} / baseline req/s: {share:.0%}{alike}   "
            f"p99 at {args.rate:.0f} req/s: {fixed[LABELS[kind]].percentile(99):.2f} ms"
        )
    print(f"Stripe calls during the run:    {stripe.requests}   (target 0)")
    print(
        "server CPU per request (max):   "
        f"baseline {base.cpu_us_per_request:.0f} us, "
        f"subscription {ours.cpu_us_per_request:.0f} us"
    )
    print(f"machine: {os.cpu_count()} cpus, python {sys.version.split()[0]}")
    return 0


LABELS = {
    "baseline": "baseline: asyncpg PK select",
    "baseline_invoices": "baseline: asyncpg 20-row select",
    "subscriptions": "GET /api/billing/subscription",
    "payment_methods": "GET /api/billing/payment-methods",
    "invoices": "GET /api/billing/invoices (20)",
    "entitlements": "GET /api/billing/entitlements",
}
PATHS = {
    "subscriptions": "/api/billing/subscription",
    "payment_methods": "/api/billing/payment-methods",
    "invoices": "/api/billing/invoices?limit=20",
    "entitlements": "/api/billing/entitlements",
}
BASELINE_PATHS = {"baseline": "/baseline", "baseline_invoices": "/baseline/invoices"}
# Served by the subscriptions process (same server, same pool): measured beside it.
SAME_SERVER = ("payment_methods", "invoices", "entitlements")
# Read for every tenant (free ones too); the others only for paid tenants.
EVERY_TENANT = ("entitlements",)


async def measure(
    args: argparse.Namespace, url: str, tenants: list[str], stripe: StripeCounter
) -> tuple[dict[str, LoadResult], dict[str, LoadResult]]:
    env = {
        "DATABASE_URL": url,
        **serve_jwt_env(JWT_SECRET),
        "STRIPE_API_KEY": "sk_test_bench",
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe.port}",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "AMQP_URL": "",  # the in-memory bus: the read path does not touch the broker
    }
    ports = {"baseline": free_port(), "subscriptions": free_port()}
    ready = {"baseline": f"/baseline?tenant_id={tenants[0]}", "subscriptions": "/healthz"}
    with contextlib.ExitStack() as stack:
        targets = []
        for which, port in ports.items():
            command = python_module("bench.subscription_read", "serve", which, "--port", str(port))
            process = stack.enter_context(server(command, port, env, ready[which]))
            kinds = [which, *(SAME_SERVER if which == "subscriptions" else ("baseline_invoices",))]
            for kind in kinds:
                raws = requests_for(kind, port, paid_tenants(tenants, kind), args.requests_pool)
                targets.append(Target(LABELS[kind], port, cycling(raws), process.pid))
                # Warm-up: every distinct request once (pools filled, each user's token seen
                # once, as in steady state where a browser reuses its token), then 2 s more.
                for requests in (len(raws), None):
                    await closed_loop(
                        "127.0.0.1",
                        port,
                        targets[-1].make,
                        connections=args.concurrency,
                        seconds=2.0,
                        requests=requests,
                    )
        return await alternating_rounds(
            targets,
            rounds=args.rounds,
            seconds=args.duration,
            connections=args.concurrency,
            rate=args.rate,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve_cmd = sub.add_parser("serve", help="internal: run one of the two servers")
    serve_cmd.add_argument("which", choices=["baseline", "subscriptions"])
    serve_cmd.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", help="Postgres server (default: DATABASE_URL)")
    parser.add_argument("--tenants", type=int, default=10_000)
    parser.add_argument(
        "--duration", type=float, default=12.0, help="seconds per endpoint and measurement"
    )
    parser.add_argument("--rounds", type=int, default=4, help="alternating slices")
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop connections")
    parser.add_argument("--rate", type=float, default=500.0, help="open-loop requests/s")
    parser.add_argument("--requests-pool", type=int, default=2_000, help="distinct requests")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.which, args.port)
        return 0
    return asyncio.run(bench(args))


if __name__ == "__main__":
    raise SystemExit(main())
