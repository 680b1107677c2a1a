"""A row never stays claimed by a dead or frozen worker, a late worker never
double-applies, and a Stripe outage strands nothing: real ``billing serve webhooks``
processes on real Postgres and RabbitMQ, Stripe's reads answered by the sandbox.

The events name no tenant, so the worker reads each customer from Stripe (its
metadata names the tenant); the sandbox's fault injection (``/_sandbox/faults``,
``delay``) makes those reads slow, which holds the worker between its claim and its
finishing transaction: the window a SIGKILL or SIGSTOP must hit. The lease is
shortened to ``WEBHOOK_LEASE_SECONDS=3`` (60 by default) so the proofs take seconds.
"""

import asyncio
import json
import os
import signal
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from billing_platform.stripe_gateway import STRIPE_API_VERSION
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.processes import ServiceProcess, billing_command, free_port
from billing_platform.testing.serve_tokens import serve_jwt_env
from billing_platform.testing.stripe_fixtures import stripe_fixture
from billing_platform.testing.waiting import wait_until
from stripe_sandbox.testing import API_KEY
from webhooks.signature import sign

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "whsec_lease_proof"
JWT = "lease-proof-jwt-secret-0123456789"
PRICE = "price_lease_solo"
LEASE_SECONDS = 3
EVENTS = 8
STRIPE_DELAY = 1.0  # seconds per customer read


Replica = Callable[..., tuple[ServiceProcess, str]]


@pytest.fixture
async def replica(
    product_database: str, amqp_url: str, exchange_name: str, stripe_sandbox: Any, tmp_path: Path
) -> AsyncIterator[Replica]:
    """``replica(name, **env)``: a started, healthy webhooks process and its URL; all
    stopped (SIGCONT first) afterwards."""
    env = {
        "DATABASE_URL": product_database,
        "AMQP_URL": amqp_url,
        "BILLING_EXCHANGE": exchange_name,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        **serve_jwt_env(JWT),
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": stripe_sandbox.url,
        "STRIPE_PRICE_SOLO": PRICE,
        "STRIPE_PRICE_TEAM": "price_lease_team",
        "WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    started: list[ServiceProcess] = []

    def start(name: str, **overrides: str) -> tuple[ServiceProcess, str]:
        port = free_port()
        command = billing_command("serve", "webhooks", "--port", str(port))
        process = ServiceProcess(name, command, {**env, **overrides}, tmp_path)
        process.start()
        process.wait_healthy(f"http://127.0.0.1:{port}/readyz")
        started.append(process)
        return process, f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        assert process.process is not None
        if process.process.poll() is None:
            process.process.send_signal(signal.SIGCONT)
        process.stop()


async def _journeys(
    sandbox: httpx.AsyncClient, label: str, count: int = EVENTS
) -> list[dict[str, Any]]:
    """One Stripe customer per tenant (metadata tenant_id) and a subscription event about
    it that names no tenant: processing it reads the customer from Stripe."""
    events = []
    now = int(time.time())
    for n in range(count):
        tenant = f"tenant_lease_{label}_{n}_{now}"
        created = await sandbox.post("/v1/customers", data={"metadata[tenant_id]": tenant})
        assert created.status_code == 200, created.text
        sub = stripe_fixture("subscription")
        item = sub["items"]["data"][0]
        item["price"].update(id=PRICE, lookup_key=None, metadata={})
        item["current_period_end"] = now + 30 * 86400
        sub.update(
            id=f"sub_lease_{label}_{n}_{now}",
            customer=created.json()["id"],
            status="active",
            metadata={},
            cancel_at_period_end=False,
            cancel_at=None,
            schedule=None,
            trial_end=None,
        )
        events.append(
            {
                "id": f"evt_lease_{label}_{n}_{now}",
                "object": "event",
                "type": "customer.subscription.updated",
                "created": now,
                "api_version": STRIPE_API_VERSION,
                "livemode": False,
                "data": {"object": sub},
            }
        )
    return events


async def _slow_stripe(sandbox: httpx.AsyncClient, **fault: Any) -> None:
    """Customer reads slow (``delay``) or failing (``status``) until the faults are
    disarmed (``DELETE /_sandbox/faults``, also after each test)."""
    fault = fault or {"delay": STRIPE_DELAY}
    armed = await sandbox.post(
        "/_sandbox/faults",
        json={**fault, "count": 100_000, "method": "GET", "path_prefix": "/v1/customers"},
    )
    assert armed.status_code == 200, armed.text


async def _deliver(url: str, events: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        for event in events:
            body = json.dumps(event).encode()
            t = int(time.time())
            response = await http.post(
                f"{url}/api/webhooks/stripe",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": f"t={t},v1={sign(body, SECRET, t)}",
                },
            )
            assert response.status_code == 200, response.text


async def _rows(database: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch(
            "SELECT event_id, status, claimed_by, claim_token, retry_count, last_error_class "
            "FROM webhooks.stripe_webhook_events_log WHERE event_id = ANY($1)",
            ids,
        )
    finally:
        await conn.close()
    return {row["event_id"]: dict(row) for row in rows}


def _pid(process: ServiceProcess) -> int:
    assert process.process is not None
    return process.process.pid


async def _leased_by(database: str, ids: list[str], process: ServiceProcess) -> set[str]:
    """The events whose lease ``process``'s worker holds now (claimed_by is host:pid:...)."""
    rows = await _rows(database, ids)
    return {
        event_id
        for event_id, row in rows.items()
        if row["claim_token"] is not None
        and (row["claimed_by"] or "").split(":")[1:2] == [str(_pid(process))]
    }


async def _await_leases(
    database: str, ids: list[str], process: ServiceProcess, at_least: int
) -> set[str]:
    """Wait until ``process`` holds at least ``at_least`` of the leases at once."""
    held: set[str] = set()

    async def holds() -> bool:
        held.clear()
        held.update(await _leased_by(database, ids, process))
        return len(held) >= at_least

    assert await wait_until(holds, timeout=30, every=0.05), process.log_tail()
    return held


def _once_each(collector: EventCollector, ids: list[str]) -> dict[str, set[str]]:
    """Message ids of the billing events each Stripe event caused."""
    caused: dict[str, set[str]] = defaultdict(set)
    for body in collector.bodies():
        if body["source"] == "webhooks" and body["causation_id"] in ids:
            caused[body["causation_id"]].add(body["id"])
    return caused


async def _all_processed(database: str, ids: list[str]) -> bool:
    rows = await _rows(database, ids)
    return len(rows) == len(ids) and all(row["status"] == "processed" for row in rows.values())


@pytest.mark.timeout(300)
async def test_a_worker_sigkilled_mid_batch_leaves_nothing_stuck(
    replica: Replica,
    sandbox_http: httpx.AsyncClient,
    product_database: str,
    amqp_url: str,
    exchange_name: str,
) -> None:
    """SIGKILL while the worker holds leases (waiting for Stripe): after a restart every
    event is processed exactly once, one billing event each, none left claimed."""
    events = await _journeys(sandbox_http, "kill")
    ids = [event["id"] for event in events]
    await _slow_stripe(sandbox_http)
    async with EventCollector(amqp_url, exchange_name) as collector:
        victim, url = replica("webhooks-kill")
        await _deliver(url, events)
        held = await _await_leases(product_database, ids, victim, at_least=3)
        victim.kill()  # mid-batch: claimed, not finished
        killed_at = time.monotonic()
        still = await _rows(product_database, ids)
        assert any(still[event_id]["status"] != "processed" for event_id in held)
        victim.start()
        await asyncio.to_thread(victim.wait_healthy, f"{url}/readyz")
        assert await wait_until(lambda: _all_processed(product_database, ids), timeout=90)
        done_after = time.monotonic() - killed_at
        assert await wait_until(lambda: len(_once_each(collector, ids)) == len(ids), timeout=30)
        await asyncio.sleep(1.0)
    print(f"all {len(ids)} processed {done_after:.1f} s after SIGKILL ({len(held)} leased)")
    rows = await _rows(product_database, ids)
    assert {row["claimed_by"] for row in rows.values()} == {None}
    assert all(len(messages) == 1 for messages in _once_each(collector, ids).values())


@pytest.mark.timeout(300)
async def test_a_frozen_workers_events_are_taken_over_and_its_late_finish_writes_nothing(
    replica: Replica,
    sandbox_http: httpx.AsyncClient,
    product_database: str,
    amqp_url: str,
    exchange_name: str,
) -> None:
    """SIGSTOP a replica while it holds leases: another replica processes those events
    within the lease (3 s here) plus its own processing; SIGCONT: the frozen one's late
    finish finds another claim token, logs ``webhooks.event.lease_lost`` and publishes
    nothing, so each Stripe event still causes exactly one billing event."""
    events = await _journeys(sandbox_http, "stop")
    ids = [event["id"] for event in events]
    await _slow_stripe(sandbox_http)
    async with EventCollector(amqp_url, exchange_name) as collector:
        replica("webhooks-other")
        frozen, url = replica("webhooks-frozen")
        await _deliver(url, events)
        await _await_leases(product_database, ids, frozen, at_least=1)
        os.kill(_pid(frozen), signal.SIGSTOP)
        stopped_at = time.monotonic()
        taken = await _leased_by(product_database, ids, frozen)
        assert taken  # still its leases, in flight, when it froze

        async def taken_over() -> bool:
            rows = await _rows(product_database, sorted(taken))
            return all(row["status"] == "processed" for row in rows.values())

        assert await wait_until(taken_over, timeout=60, every=0.1)
        took = time.monotonic() - stopped_at
        # The lease, then the other replica's own read of each customer (slow on purpose).
        assert took < LEASE_SECONDS + len(taken) * STRIPE_DELAY + 5, took
        assert await wait_until(lambda: _all_processed(product_database, ids), timeout=90)
        assert await wait_until(lambda: len(_once_each(collector, ids)) == len(ids), timeout=30)

        os.kill(_pid(frozen), signal.SIGCONT)

        def lease_lost_logged() -> bool:
            return "webhooks.event.lease_lost" in frozen.log_path.read_text(errors="replace")

        assert await wait_until(lease_lost_logged, timeout=30, every=0.2), frozen.log_tail()
        await asyncio.sleep(2.0)  # its relay too has had time to publish anything it wrote
    print(f"taken over {took:.1f} s after SIGSTOP ({len(taken)} leased event(s))")
    assert all(len(messages) == 1 for messages in _once_each(collector, ids).values())
    assert {row["status"] for row in (await _rows(product_database, ids)).values()} == {"processed"}


@pytest.mark.timeout(300)
async def test_stripe_answering_500_past_the_fast_lane_fails_nothing(
    replica: Replica,
    sandbox_http: httpx.AsyncClient,
    product_database: str,
    amqp_url: str,
    exchange_name: str,
) -> None:
    """Stripe answers 500 to every customer read (``/_sandbox/faults``, status 500)
    until every event has gone past the fast lane (2, 4, 8 s) into the slow lane:
    "10 minutes of event age" in shortened settings (``WEBHOOK_SLOW_RETRY_MAX_SECONDS
    =2``, ``WEBHOOK_RETRY_HORIZON_HOURS=0.05``: 3 minutes). All stay ``retrying``
    (transient), none ``failed``; once Stripe is back each is processed once and
    publishes one billing event."""
    events = await _journeys(sandbox_http, "outage", count=4)  # each read fails in ~2 s
    ids = [event["id"] for event in events]
    await _slow_stripe(sandbox_http, status=500)
    async with EventCollector(amqp_url, exchange_name) as collector:
        _, url = replica(
            "webhooks-outage",
            WEBHOOK_SLOW_RETRY_MAX_SECONDS="2",
            WEBHOOK_RETRY_HORIZON_HOURS="0.05",
            WEBHOOK_LEASE_SECONDS="60",
        )
        await _deliver(url, events)

        async def on_the_slow_lane() -> bool:
            rows = list((await _rows(product_database, ids)).values())
            assert len(rows) == len(ids)
            assert all(row["status"] in ("pending", "retrying") for row in rows), rows
            return all(
                row["retry_count"] > 3 and row["last_error_class"] == "transient" for row in rows
            )

        assert await wait_until(on_the_slow_lane, timeout=120, every=0.5)
        assert (await sandbox_http.delete("/_sandbox/faults")).status_code == 200
        assert await wait_until(lambda: _all_processed(product_database, ids), timeout=60)
        assert await wait_until(lambda: len(_once_each(collector, ids)) == len(ids), timeout=30)
        await asyncio.sleep(1.0)
    assert all(len(messages) == 1 for messages in _once_each(collector, ids).values())
