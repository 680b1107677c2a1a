"""Sending signed webhooks at a fixed rate and timing when each one's projection row appears.

``drive`` starts one request per event on a fixed schedule (open loop, keep-alive
connections), notes when each 200 came back, and meanwhile polls the projection
table on ONE asyncpg connection (a prepared primary-key ``= ANY`` select of the
tenants still awaited, every ``poll_interval`` seconds, only while some are
awaited, and never more than ~20 % of the time): latency = first poll that sees
the tenant's row - its 200.

Why the table and not ``GET /api/billing/subscription``: an HTTP read would run in
the subscriptions process, the very process consuming the events, and add its
JWT/HTTP cost to what is measured; a select on its own connection costs that
process nothing. The poll's cost is reported (polls/s and its Postgres backend's
CPU) and its resolution (the interval plus one round trip) is a few ms against a
50 ms target.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from billing_platform.stripe_gateway import STRIPE_API_VERSION
from billing_platform.testing.stripe_fixtures import stripe_fixture

from bench.loadgen import _Connection, post_request, process_cpu_seconds

PATH = "/api/webhooks/stripe"


@dataclass
class PipelineResult:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds
    sent: int = 0
    non_2xx: int = 0
    missing: int = 0
    polls: int = 0
    seconds: float = 0.0
    poll_backend_cpu: float = 0.0
    server_cpu: dict[str, float] = field(default_factory=dict)  # CPU s per child process
    shared_cpu: dict[str, float] = field(default_factory=dict)  # Postgres, RabbitMQ, driver

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def summary(self) -> str:
        return (
            f"{self.name}: {self.sent} sent, p50 {self.pct(50):.1f} ms, p99 {self.pct(99):.1f} ms, "
            f"max {self.pct(100):.1f} ms, never arrived {self.missing}, non-2xx {self.non_2xx}; "
            f"in {self.seconds:.1f} s, CPU s: "
            + ", ".join(
                f"{name} {cpu:.1f}" for name, cpu in {**self.server_cpu, **self.shared_cpu}.items()
            )
        )


def subscription_events(run: str, count: int, price_id: str) -> list[tuple[str, bytes]]:
    """``customer.subscription.updated`` events, one tenant each, that need no Stripe read."""
    template = stripe_fixture("subscription")
    now = int(time.time())
    out = []
    for n in range(count):
        tenant = f"tenant_{run}_{n}"
        sub = copy.deepcopy(template)
        sub.update(
            id=f"sub_{run}_{n}",
            customer=f"cus_{run}_{n}",
            metadata={"tenant_id": tenant},
            schedule=None,
            status="active",
            cancel_at=None,
            cancel_at_period_end=False,
            canceled_at=None,
            ended_at=None,
            trial_end=None,
            pending_update=None,
        )
        item = sub["items"]["data"][0]
        item.update(subscription=sub["id"], current_period_start=now)
        item["current_period_end"] = now + 30 * 86400
        item["price"]["id"] = price_id
        event = {
            "id": f"evt_{run}_{n}",
            "object": "event",
            "type": "customer.subscription.updated",
            "api_version": STRIPE_API_VERSION,
            "created": now,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": sub, "previous_attributes": {"status": "trialing"}},
        }
        out.append((tenant, json.dumps(event).encode()))
    return out


def signed(port: int, body: bytes, secret: str) -> bytes:
    t = int(time.time())
    signature = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={signature}"}
    return post_request("127.0.0.1", port, PATH, body, headers)


def children_cpu() -> dict[str, float]:
    """CPU seconds so far of this process's children, by command (Linux ``/proc``)."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            name = " ".join(a.decode() for a in argv[1:4] if a and not a.startswith(b"/"))
            out[name or pid] = process_cpu_seconds(int(pid))
    return out


SHARED_PROCESSES = {"postgres": "Postgres (all processes)", "beam.smp": "RabbitMQ"}


def shared_cpu() -> dict[str, float]:
    """CPU seconds so far of the servers every pipeline shares, and of this driver.

    Postgres backends that exit between two readings are missed; the services' pooled
    connections live through a run, so what is missed is small.
    """
    out = dict.fromkeys(SHARED_PROCESSES.values(), 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            comm = stat.read_text().split("(", 1)[1].rsplit(")", 1)[0]
        except (OSError, IndexError):
            continue
        if comm in SHARED_PROCESSES:
            out[SHARED_PROCESSES[comm]] += process_cpu_seconds(int(stat.parent.name))
    times = os.times()
    out["bench driver"] = times.user + times.system
    return out


async def drive(
    name: str,
    port: int,
    events: list[tuple[str, bytes]],
    *,
    secret: str,
    database_url: str,
    table: str,
    rate: float,
    poll_interval: float = 0.002,
    timeout: float = 10.0,
    pool: int = 32,
) -> PipelineResult:
    """Send ``events`` at ``rate``/s to ``port``; time each 200 -> row in ``table``."""
    result = PipelineResult(name, sent=len(events))
    requests = [(tenant, signed(port, body, secret)) for tenant, body in events]
    answered: dict[str, float] = {}
    seen: dict[str, float] = {}
    pending: set[str] = set()
    wake = asyncio.Event()
    sending_done = asyncio.Event()
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(pool):
        idle.put_nowait(_Connection("127.0.0.1", port))

    async def one(tenant: str, raw: bytes) -> None:
        conn = await idle.get()
        try:
            status = await conn.send(raw)
        finally:
            idle.put_nowait(conn)
        answered[tenant] = time.perf_counter()
        if not 200 <= status < 300:
            result.non_2xx += 1

    async def send_all() -> None:
        begin = time.perf_counter()
        tasks = []
        try:
            for n, (tenant, raw) in enumerate(requests):
                delay = begin + n / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                pending.add(tenant)
                wake.set()
                tasks.append(asyncio.create_task(one(tenant, raw)))
            await asyncio.gather(*tasks)
        finally:
            sending_done.set()
            wake.set()

    db = await asyncpg.connect(database_url)
    try:
        backend = await db.fetchval("SELECT pg_backend_pid()")
        cpu_before = process_cpu_seconds(backend)
        children_before = children_cpu()
        shared_before = shared_cpu()
        query = await db.prepare(f"SELECT tenant_id FROM {table} WHERE tenant_id = ANY($1::text[])")
        started = time.perf_counter()
        sender = asyncio.create_task(send_all())
        deadline = float("inf")
        while True:
            if sending_done.is_set() and deadline == float("inf"):
                deadline = time.perf_counter() + timeout
            if not pending:
                if sending_done.is_set():
                    break
                wake.clear()
                await wake.wait()
                continue
            asked = time.perf_counter()
            rows = await query.fetch(list(pending))
            now = time.perf_counter()
            result.polls += 1
            for row in rows:
                seen[row[0]] = now
                pending.discard(row[0])
            if now > deadline:
                break
            # At most ~20 % of the time in the probe, however many rows are awaited.
            await asyncio.sleep(max(poll_interval, 4 * (now - asked)))
        await sender
        result.seconds = time.perf_counter() - started
        result.poll_backend_cpu = process_cpu_seconds(backend) - cpu_before
        result.server_cpu = {
            name: cpu - children_before.get(name, 0.0) for name, cpu in children_cpu().items()
        }
        result.shared_cpu = {
            name: cpu - shared_before.get(name, 0.0) for name, cpu in shared_cpu().items()
        }
    finally:
        await db.close()
        while not idle.empty():
            idle.get_nowait().close()
    result.latencies = [seen[t] - answered[t] for t in seen if t in answered]
    result.missing = len(events) - len(seen)
    return result
