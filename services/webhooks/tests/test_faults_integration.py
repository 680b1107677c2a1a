"""Faults injected for real: Postgres connections killed during ingest."""

import asyncio
import random
from typing import Any

import asyncpg
import pytest
from billing_platform.testing.collector import EventCollector
from webhooks.testing import Builders, StartWebhooks

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def _terminate_backends(admin_url: str, database: str, stop: asyncio.Event) -> int:
    """Kill every connection of the service's database, again and again."""
    killed = 0
    conn = await asyncpg.connect(admin_url)
    try:
        while not stop.is_set():
            killed += await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid() "
                "AND application_name NOT LIKE 'test-observer%'",
                database,
            )
            await asyncio.sleep(random.uniform(0.05, 0.2))
    finally:
        await conn.close()
    return killed


async def test_connections_killed_during_ingest_lose_no_acknowledged_event(
    start_webhooks: StartWebhooks,
    build: type[Builders],
    webhooks_database: str,
    postgres_server_url: str,
    amqp_url: str,
    exchange_name: str,
) -> None:
    database = webhooks_database.rsplit("/", 1)[1].split("?")[0]
    events = [
        build.event("invoice.paid", build.invoice(tenant=f"tenant_{n % 20}")) for n in range(300)
    ]
    accepted: list[str] = []
    refused: list[Any] = []
    async with EventCollector(amqp_url, exchange_name) as collector, start_webhooks() as hooks:
        stop = asyncio.Event()
        killer = asyncio.create_task(_terminate_backends(postgres_server_url, database, stop))
        semaphore = asyncio.Semaphore(16)

        async def post(event: dict[str, Any]) -> None:
            async with semaphore:
                response = await hooks.post_event(event)
            if response.status_code == 200:
                accepted.append(event["id"])
            else:
                assert response.status_code == 503, response.text
                assert response.json()["error"]["code"] == "database_unavailable"
                refused.append(event)

        await asyncio.gather(*(post(e) for e in events))
        stop.set()
        killed = await killer
        first_round = set(accepted)
        assert first_round <= await _rows(webhooks_database)  # every 200 was durable
        # Stripe redelivers what got a 503. A 503 whose insert had committed before the
        # connection died comes back as a duplicate: stored once either way.
        redelivered = [(await hooks.post_event(e)).json() for e in refused]
        assert all(answer["received"] for answer in redelivered)
        assert await collector.wait_for(len(events), timeout=60), len(collector.messages)
        await asyncio.sleep(1.0)
    causes = [body["causation_id"] for body in collector.bodies()]
    assert killed > 0
    assert refused, "the fault never hit a request"
    assert sorted(causes) == sorted(e["id"] for e in events)  # every event, exactly once


async def _rows(database_url: str) -> set[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return {
            r["event_id"]
            for r in await conn.fetch("SELECT event_id FROM webhooks.stripe_webhook_events_log")
        }
    finally:
        await conn.close()
