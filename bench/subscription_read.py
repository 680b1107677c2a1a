"""Benchmark: ``GET /api/billing/subscription`` beside a minimal asyncpg primary-key endpoint.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test uv run python bench/subscription_read.py

What it does, all in one run so both sides see the same machine:

1. creates a database of its own (dropped at the end), applies the subscriptions
   migrations and fills ``subscriptions.billing_accounts`` with 10,000 tenants;
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
60 % of the baseline's requests/s, p99 under 30 ms at 500 requests/s, zero Stripe calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from billing_platform.testing.processes import free_port
from billing_platform.testing.serve_tokens import serve_jwt_env

from bench.harness import process_cpu_seconds

JWT_SECRET = "bench-secret-0123456789-abcdefghijklmnop"
PLANS = ("free", "solo", "team", "enterprise")
STATUSES = ("active", "trialing", "past_due", "canceled")


# -- the two servers (run as subprocesses of this script) ---------------------------------


def baseline_app() -> object:
    """The minimal endpoint: one asyncpg primary-key select, the row as JSON."""
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


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def create_database(server_url: str, tenants: int) -> tuple[str, str, list[str]]:
    import asyncpg
    from billing_platform.migrations import upgrade_async
    from subscriptions.schema import MIGRATIONS

    name = f"billing_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server_url, name)
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
        await conn.execute("ANALYZE subscriptions.billing_accounts")
    finally:
        await conn.close()
    return name, url, ids


async def drop_database(server_url: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# -- load generation ------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    mode: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    server_cpu_s: float = 0.0

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.requests * 1e6 if self.requests else float("nan")

    def add(self, other: Result) -> None:
        self.mode = other.mode
        self.server_cpu_s += other.server_cpu_s
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.latencies_ms.extend(other.latencies_ms)

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Connection:
    """One keep-alive HTTP/1.1 connection; just enough parsing for these responses."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


def requests_for(kind: str, port: int, tenants: Sequence[str], count: int) -> list[bytes]:
    from billing_platform.testing.serve_tokens import mint_serve_token

    rng = random.Random(2)
    chosen = [rng.choice(tenants) for _ in range(count)]
    out = []
    for tenant in chosen:
        if kind == "baseline":
            line = f"GET /baseline?tenant_id={tenant} HTTP/1.1\r\n"
            out.append(f"{line}Host: 127.0.0.1:{port}\r\n\r\n".encode())
        else:
            token = mint_serve_token(JWT_SECRET, tenant_id=tenant, role="member", ttl_seconds=7200)
            out.append(
                (
                    f"GET /api/billing/subscription HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Authorization: Bearer {token}\r\n\r\n"
                ).encode()
            )
    return out


async def closed_loop(
    name: str,
    port: int,
    raws: list[bytes],
    concurrency: int,
    duration: float,
    *,
    once: bool = False,
) -> Result:
    """``concurrency`` connections back to back for ``duration`` (or through ``raws`` once)."""
    latencies: list[float] = []
    errors = 0
    done = 0
    deadline = time.perf_counter() + duration

    async def worker(offset: int) -> None:
        nonlocal errors, done
        conn = Connection(port)
        i = offset
        try:
            while (i < len(raws)) if once else (time.perf_counter() < deadline):
                raw = raws[i % len(raws)]
                i += concurrency
                started = time.perf_counter()
                try:
                    status = await conn.request(raw)
                except (OSError, asyncio.IncompleteReadError):
                    errors += 1
                    await conn.close()
                    conn = Connection(port)
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                done += 1
                if status != 200:
                    errors += 1
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return Result(
        name, f"max, {concurrency} conns", done, errors, time.perf_counter() - started, latencies
    )


async def open_loop(
    name: str, port: int, raws: list[bytes], rate: float, duration: float, connections: int = 64
) -> Result:
    latencies: list[float] = []
    errors = 0
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        free.put_nowait(Connection(port))
    total = int(rate * duration)
    start = time.perf_counter() + 0.05

    async def one(i: int) -> None:
        nonlocal errors
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        conn = await free.get()
        try:
            status = await conn.request(raws[i % len(raws)])
            if status != 200:
                errors += 1
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            await conn.close()
            conn = Connection(port)
        finally:
            free.put_nowait(conn)
        latencies.append((time.perf_counter() - scheduled) * 1000)

    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - start
    while not free.empty():
        await free.get_nowait().close()
    return Result(name, f"fixed {rate:.0f}/s", len(latencies), errors, elapsed, latencies)


# -- orchestration --------------------------------------------------------------------------


def start_server(which: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "serve", which, "--port", str(port)],
        env=env,
        start_new_session=True,
    )


async def wait_ready(port: int, path: str, process: subprocess.Popen[bytes]) -> None:
    raw = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"server on :{port} exited with {process.returncode}")
        conn = Connection(port)
        try:
            if await conn.request(raw) == 200:
                return
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            await conn.close()
        await asyncio.sleep(0.1)
    raise RuntimeError(f"server on :{port} not ready")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def table(results: list[Result]) -> str:
    header = (
        f"{'endpoint':<34} {'mode':<18} {'requests':>9} {'errors':>7} {'req/s':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.name:<34} {r.mode:<18} {r.requests:>9} {r.errors:>7} {r.rps:>9.0f} "
            f"{r.pct(0.50):>8.2f} {r.pct(0.99):>8.2f}"
        )
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> int:
    server_url = args.database_url or os.environ.get("DATABASE_URL")
    if not server_url:
        print("set DATABASE_URL (a Postgres server; a database of its own is created)")
        return 2
    print(f"seeding {args.tenants} tenants ...", flush=True)
    name, url, tenants = await create_database(server_url, args.tenants)
    stripe = StripeCounter()
    await stripe.start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        **serve_jwt_env(JWT_SECRET),
        "STRIPE_API_KEY": "sk_test_bench",
        "STRIPE_API_BASE": f"http://127.0.0.1:{stripe.port}",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
    }
    env.pop("AMQP_URL", None)  # the in-memory bus: the read path does not touch the broker
    ports = {"baseline": free_port(), "subscriptions": free_port()}
    processes = {which: start_server(which, port, env) for which, port in ports.items()}
    try:
        await wait_ready(
            ports["baseline"], f"/baseline?tenant_id={tenants[0]}", processes["baseline"]
        )
        await wait_ready(ports["subscriptions"], "/healthz", processes["subscriptions"])
        raws = {
            which: requests_for(which, port, tenants, args.requests_pool)
            for which, port in ports.items()
        }
        labels = {
            "baseline": "baseline: asyncpg PK select",
            "subscriptions": "GET /api/billing/subscription",
        }
        # Warm-up: every distinct request once (pools filled, each user's token seen
        # once, as in steady state where a browser reuses its token), then 2 s more.
        for which in ("baseline", "subscriptions"):
            await closed_loop(
                labels[which], ports[which], raws[which], args.concurrency, 2.0, once=True
            )
            await closed_loop(labels[which], ports[which], raws[which], args.concurrency, 2.0)
        # Short rounds, alternating which side goes first, so both see the same
        # machine (other processes come and go); the rounds are summed.
        maxima = {which: Result(labels[which], "", 0, 0, 0.0, []) for which in ports}
        fixed = {which: Result(labels[which], "", 0, 0, 0.0, []) for which in ports}
        slice_s = args.duration / args.rounds
        for n in range(args.rounds):
            order = ("baseline", "subscriptions") if n % 2 == 0 else ("subscriptions", "baseline")
            for which in order:
                cpu_before = process_cpu_seconds(processes[which].pid)
                got = await closed_loop(
                    labels[which], ports[which], raws[which], args.concurrency, slice_s
                )
                got.server_cpu_s = process_cpu_seconds(processes[which].pid) - cpu_before
                maxima[which].add(got)
            for which in order:
                got = await open_loop(labels[which], ports[which], raws[which], args.rate, slice_s)
                fixed[which].add(got)
        results = [maxima["baseline"], maxima["subscriptions"]]
        results += [fixed["baseline"], fixed["subscriptions"]]
    finally:
        for process in processes.values():
            stop_server(process)
        await stripe.stop()
        await drop_database(server_url, name)

    print()
    print(table(results))
    ratio = maxima["subscriptions"].rps / maxima["baseline"].rps if maxima["baseline"].rps else 0
    ours = fixed["subscriptions"]
    print()
    print(f"tenants in the table:           {args.tenants}")
    print(f"subscription / baseline req/s:  {ratio:.0%}   (target >= 60%)")
    print(f"p99 at {args.rate:.0f} req/s:              {ours.pct(0.99):.2f} ms   (target < 30 ms)")
    print(f"Stripe calls during the run:    {stripe.requests}   (target 0)")
    print(
        "server CPU per request (max):   "
        f"baseline {maxima['baseline'].cpu_us_per_request:.0f} us, "
        f"subscription {maxima['subscriptions'].cpu_us_per_request:.0f} us"
    )
    print(f"machine: {os.cpu_count()} cpus, python {sys.version.split()[0]}")
    return 0


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
