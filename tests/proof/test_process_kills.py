"""Service processes killed with SIGKILL mid-stream: between the database commit and
the broker publish (webhooks: worker and relay), and between consume and ack
(subscriptions). After restarts every event's effect happens exactly once."""

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.processes import ServiceProcess, billing_command, free_port
from billing_platform.testing.serve_tokens import mint_serve_token, serve_jwt_env
from billing_platform.testing.stripe_fixtures import stripe_fixture
from billing_platform.testing.waiting import wait_until
from webhooks.signature import sign

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "whsec_kill_test"
JWT = "kill-test-jwt-secret-0123456789"
PRICES = {"solo": "price_kill_solo", "team": "price_kill_team"}
TENANTS = 30


def _event(tenant: str, plan: str, created: int, n: int) -> dict[str, Any]:
    sub = stripe_fixture("subscription")
    item = sub["items"]["data"][0]
    item["price"].update(id=PRICES[plan], lookup_key=None, metadata={})
    item["current_period_end"] = created + 30 * 86400
    sub.update(
        id=f"sub_{tenant}",
        customer=f"cus_{tenant}",
        status="active",
        metadata={"tenant_id": tenant},
        cancel_at_period_end=False,
        cancel_at=None,
        schedule=None,
        trial_end=None,
    )
    return {
        "id": f"evt_kill_{tenant}_{n}",
        "object": "event",
        "type": "customer.subscription.updated",
        "created": created,
        "api_version": "2025-08-27.basil",
        "livemode": False,
        "data": {"object": sub},
    }


Services = tuple[dict[str, ServiceProcess], dict[str, int]]


@pytest.fixture
async def services(
    product_database: str, amqp_url: str, exchange_name: str, tmp_path: Path
) -> AsyncIterator[Services]:
    env = {
        "DATABASE_URL": product_database,
        "AMQP_URL": amqp_url,
        "BILLING_EXCHANGE": exchange_name,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        **serve_jwt_env(JWT),
        "STRIPE_API_KEY": "",
        "STRIPE_PRICE_SOLO": PRICES["solo"],
        "STRIPE_PRICE_TEAM": PRICES["team"],
        "LOG_LEVEL": "WARNING",
        # A killed worker's leases run out after this (60 s by default).
        "WEBHOOK_LEASE_SECONDS": "5",
    }
    ports = {"webhooks": free_port(), "subscriptions": free_port()}
    running = {
        name: ServiceProcess(
            name, billing_command("serve", name, "--port", str(port)), env, tmp_path
        )
        for name, port in ports.items()
    }
    for process in running.values():
        process.start()
    for name, process in running.items():
        process.wait_healthy(f"http://127.0.0.1:{ports[name]}/readyz")
    yield running, ports
    for process in running.values():
        process.stop()


async def _kill_and_restart(process: ServiceProcess, port: int, stop: asyncio.Event) -> None:
    rng = random.Random(5)
    while not stop.is_set():
        await asyncio.sleep(rng.uniform(0.3, 0.9))
        process.kill()
        process.start()
        await asyncio.to_thread(process.wait_healthy, f"http://127.0.0.1:{port}/healthz")


async def _deliver_until_accepted(
    http: httpx.AsyncClient, hooks: str, event: dict[str, Any]
) -> None:
    """Like Stripe: retry until a 2xx (the service may be down, restarting)."""
    body = json.dumps(event).encode()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        t = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": f"t={t},v1={sign(body, SECRET, t)}",
        }
        try:
            response = await http.post(
                f"{hooks}/api/webhooks/stripe", content=body, headers=headers
            )
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"{event['id']} was never accepted")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("victim", ["webhooks", "subscriptions"])
async def test_sigkill_mid_stream_leaves_exactly_once_effects(
    services: Services, amqp_url: str, exchange_name: str, victim: str
) -> None:
    running, ports = services
    tenants = [f"tenant_kill_{victim[:3]}_{n}" for n in range(TENANTS)]
    base = int(time.time()) - 600
    events = [_event(t, "solo", base, 1) for t in tenants] + [
        _event(t, "team", base + 60, 2) for t in tenants
    ]
    hooks = f"http://127.0.0.1:{ports['webhooks']}"
    async with (
        EventCollector(amqp_url, exchange_name) as collector,
        httpx.AsyncClient(timeout=10) as http,
    ):
        stop = asyncio.Event()
        killer = asyncio.create_task(_kill_and_restart(running[victim], ports[victim], stop))
        for event in events:
            await _deliver_until_accepted(http, hooks, event)
            await asyncio.sleep(0.05)
        await wait_until(lambda: running[victim].kills >= 2, timeout=120, every=0.5)
        stop.set()
        await killer
        assert running[victim].kills >= 2

        subs = f"http://127.0.0.1:{ports['subscriptions']}"

        async def all_on_team() -> bool:
            for tenant in tenants:
                token = mint_serve_token(JWT, tenant_id=tenant, role="member")
                try:
                    state = (
                        await http.get(
                            f"{subs}/api/billing/subscription",
                            headers={"Authorization": f"Bearer {token}"},
                        )
                    ).json()
                except (httpx.HTTPError, ValueError):
                    return False
                if state.get("plan_type") != "team":
                    return False
            return True

        assert await wait_until(all_on_team, timeout=90, every=1.0)
        await asyncio.sleep(2.0)

    bodies = collector.bodies()
    # A relay killed after the broker's confirm but before its commit publishes again:
    # the copy carries the same message id, and consumers' inboxes drop it. What must hold
    # is the effects: one message id per Stripe event, and each tenant activated once and
    # moved to team once, whatever was killed when.
    ids_per_cause: dict[tuple[str, str], set[str]] = defaultdict(set)
    for body in bodies:
        if body["source"] == "webhooks":
            ids_per_cause[(body["type"], body["causation_id"])].add(body["id"])
    assert len(ids_per_cause) == len(events)
    assert all(len(ids) == 1 for ids in ids_per_cause.values())
    for kind in ("subscription.activated", "subscription.plan_changed"):
        distinct = {(b["tenant_id"], b["id"]) for b in bodies if b["type"] == kind}
        assert Counter(tenant for tenant, _ in distinct) == Counter(dict.fromkeys(tenants, 1)), kind
    copies = len(bodies) - len({b["id"] for b in bodies})
    print(f"{victim}: {running[victim].kills} kills, {copies} copies on the wire")
