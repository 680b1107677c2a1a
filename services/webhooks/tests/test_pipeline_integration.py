"""The whole webhooks pipeline on real Postgres and RabbitMQ: storms, outages, retries."""

import asyncio
import functools
import random
from datetime import timedelta
from typing import Any

import pytest
from billing_domain.errors import NotFound
from billing_platform.testing.clock import FakeClock
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.tcp_proxy import TcpProxy
from billing_platform.testing.waiting import wait_until
from webhooks.testing import Builders, FakeStripeReader, RunningWebhooks, StartWebhooks

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _storm(
    build: type[Builders], unique: int, duplicate_share: float, seed: int
) -> tuple[list[dict[str, Any]], set[str]]:
    rng = random.Random(seed)
    events = [
        build.event("invoice.paid", build.invoice(tenant=f"tenant_{n % 50}", amount_paid=100 + n))
        for n in range(unique)
    ]
    copies = [rng.choice(events) for _ in range(int(unique * duplicate_share))]
    deliveries = events + copies
    rng.shuffle(deliveries)
    return deliveries, {e["id"] for e in events}


async def _post_all(
    hooks: RunningWebhooks, deliveries: list[dict[str, Any]], concurrency: int = 32
) -> list[int]:
    semaphore = asyncio.Semaphore(concurrency)

    async def post(event: dict[str, Any]) -> int:
        async with semaphore:
            return int((await hooks.post_event(event)).status_code)

    return list(await asyncio.gather(*(post(e) for e in deliveries)))


async def _log_counts(hooks: RunningWebhooks) -> dict[str, int]:
    import asyncpg

    conn = await asyncpg.connect(hooks.database_url)
    try:
        rows = await conn.fetch(
            "SELECT status, count(*) AS n FROM webhooks.stripe_webhook_events_log GROUP BY status"
        )
    finally:
        await conn.close()
    return {row["status"]: row["n"] for row in rows}


async def test_a_thousand_events_with_duplicates_shuffled_publish_once_each(
    start_webhooks: StartWebhooks, build: type[Builders], amqp_url: str, exchange_name: str
) -> None:
    deliveries, unique_ids = _storm(build, unique=1000, duplicate_share=0.3, seed=7)
    async with EventCollector(amqp_url, exchange_name) as collector, start_webhooks() as hooks:
        statuses = await _post_all(hooks, deliveries)
        assert set(statuses) == {200}
        assert await collector.wait_for(len(unique_ids), timeout=120)
        await asyncio.sleep(1.0)  # anything doubled would arrive now
        counts = await _log_counts(hooks)
    assert counts == {"processed": len(unique_ids)}
    causes = [body["causation_id"] for body in collector.bodies()]
    assert len(causes) == len(unique_ids)
    assert set(causes) == unique_ids
    assert len(set(collector.ids())) == len(unique_ids)


async def test_broker_outage_mid_run_loses_nothing(
    start_webhooks: StartWebhooks, build: type[Builders], amqp_url: str, exchange_name: str
) -> None:
    host_port = amqp_url.rsplit("@", 1)[1].split("/")[0]
    host, port = host_port.split(":")
    proxy = TcpProxy(host, int(port))
    proxied = amqp_url.replace(host_port, f"127.0.0.1:{await proxy.start()}")
    first, ids_first = _storm(build, unique=100, duplicate_share=0.3, seed=1)
    second, ids_second = _storm(build, unique=100, duplicate_share=0.3, seed=2)
    async with (
        EventCollector(amqp_url, exchange_name) as collector,
        start_webhooks(amqp=proxied) as hooks,
    ):
        assert set(await _post_all(hooks, first)) == {200}
        await proxy.cut()  # the broker is gone for the service
        assert set(await _post_all(hooks, second)) == {200}  # ingest does not need it
        assert (await hooks.client.get("/readyz")).json()["checks"]["broker"] == "unavailable"
        await asyncio.sleep(1.0)
        await proxy.restore()
        assert await collector.wait_for(200, timeout=60)
        await asyncio.sleep(1.0)
    await proxy.close()
    causes = [body["causation_id"] for body in collector.bodies()]
    assert sorted(causes) == sorted(ids_first | ids_second)


async def test_processing_failure_retries_2_4_8_then_fails_and_replay_succeeds(
    start_webhooks: StartWebhooks,
    build: type[Builders],
    fake_stripe: FakeStripeReader,
    fake_clock: FakeClock,
) -> None:
    """A permanent failure (Stripe has no such schedule) takes the fast lane only."""
    fake_stripe.fail_with = NotFound("stripe has no schedule sub_sched_int")
    event = build.event(
        "customer.subscription.updated", build.subscription(schedule="sub_sched_int")
    )
    async with start_webhooks(clock=fake_clock) as hooks:
        assert (await hooks.post_event(event)).status_code == 200
        seen = []
        for expected_retry, wait in ((1, 2), (2, 4), (3, 8)):
            assert await wait_until(
                functools.partial(_retry_count_is, hooks, event["id"], expected_retry), timeout=10
            )
            row = await hooks.row(event["id"])
            assert row is not None
            seen.append((row["status"], row["next_attempt_at"] - fake_clock.now()))
            fake_clock.advance(wait)
        assert await wait_until(lambda: _status_is(hooks, event["id"], "failed"), timeout=10)
        assert seen == [("retrying", timedelta(seconds=s)) for s in (2, 4, 8)]
        row = await hooks.row(event["id"])
        assert row is not None
        assert "stripe has no schedule" in row["error_message"]
        assert row["last_error_class"] == "permanent"

        fake_stripe.fail_with = None
        fake_stripe.objects["sub_sched_int"] = {"id": "sub_sched_int", "status": "released"}
        from billing_platform.http.tokens import mint_token

        token = mint_token("j" * 32, tenant_id="ops", role="admin", scopes=["billing:admin"])
        replayed = await hooks.client.post(
            f"/api/webhooks/events/{event['id']}/replay",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["status"] == "pending"
        assert await wait_until(lambda: _status_is(hooks, event["id"], "processed"), timeout=10)


async def _retry_count_is(hooks: RunningWebhooks, event_id: str, count: int) -> bool:
    row = await hooks.row(event_id)
    return row is not None and (row["retry_count"], row["status"]) == (count, "retrying")


async def _status_is(hooks: RunningWebhooks, event_id: str, status: str) -> bool:
    row = await hooks.row(event_id)
    return row is not None and bool(row["status"] == status)


async def test_ingest_only_replica_and_a_worker_replica_split_the_work(
    start_webhooks: StartWebhooks, build: type[Builders], amqp_url: str, exchange_name: str
) -> None:
    """WEBHOOK_WORKER_CONCURRENCY=0: the API replica only stores; another processes."""
    deliveries, unique_ids = _storm(build, unique=100, duplicate_share=0.3, seed=3)
    async with (
        EventCollector(amqp_url, exchange_name) as collector,
        start_webhooks(worker_concurrency=0) as api,
    ):
        assert set(await _post_all(api, deliveries)) == {200}
        await asyncio.sleep(0.5)
        assert await _log_counts(api) == {"pending": len(unique_ids)}  # nobody processes
        async with start_webhooks(worker_concurrency=2, truncate=False):
            assert await collector.wait_for(len(unique_ids), timeout=60)
            counts = await _log_counts(api)
    assert counts == {"processed": len(unique_ids)}
    assert {body["causation_id"] for body in collector.bodies()} == unique_ids
