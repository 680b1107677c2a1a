"""Issue 17's proof: Postgres cut for 30 s under the subscriptions consumer.

The service runs as in production (its app, its RabbitMQ consumer with the default
slow lane) with its database behind a TCP proxy. While the proxy drops every
connection and refuses new ones, 20 ``subscription.updated`` events for four tenants
arrive (plans changing, cancellations scheduled): each fails on the database, waits
in the slow lane (1, 3, 10, 30 s...) instead of burning its 5 deliveries, and is
applied once Postgres is back. Nothing is dead-lettered and every projection ends on
what the newest event (and Stripe) says.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta
from typing import Any

import aio_pika
import asyncpg
import pytest
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription_snapshot import SubscriptionSnapshot
from billing_platform.messaging.dead_letters import queue_depth
from billing_platform.messaging.message import OutgoingMessage
from billing_platform.messaging.rabbitmq import RabbitMQBus, dead_letter_queue
from billing_platform.messaging.retry_lane import TRANSIENT_RETRIES
from billing_platform.testing.tcp_proxy import proxy_database
from billing_platform.testing.waiting import wait_until
from subscriptions.adapters.postgres import PgAccountReader
from subscriptions.testing import AppClient, Builders, World

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TENANTS = 4
EVENTS_PER_TENANT = 5


async def _queue_depth(amqp_url: str, queue: str) -> int | None:
    connection = await aio_pika.connect(amqp_url)
    try:
        return await queue_depth(await connection.channel(), queue)
    finally:
        await connection.close()


async def _applied(pool: asyncpg.Pool, ids: list[str]) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM subscriptions.inbox WHERE message_id = ANY($1::text[])", ids
    )
    return count


def _journey(
    build: type[Builders], subscription_id: str, customer_id: str
) -> list[SubscriptionSnapshot]:
    """Five states of one subscription: upgrades, a scheduled cancellation, a downgrade."""
    snap = build.snapshot
    ids: dict[str, Any] = {"subscription_id": subscription_id, "customer_id": customer_id}
    return [
        snap(**ids, plan=PlanType.TEAM),
        snap(**ids, plan=PlanType.ENTERPRISE),
        snap(**ids, plan=PlanType.ENTERPRISE, cancel_at_period_end=True),
        snap(
            **ids,
            plan=PlanType.ENTERPRISE,
            status=SubscriptionStatus.PAST_DUE,
            cancel_at_period_end=True,
        ),
        snap(**ids, plan=PlanType.SOLO, cancel_at_period_end=True),
    ]


@pytest.mark.parametrize("cut_seconds", [30.0])
async def test_postgres_cut_under_the_consumer_loses_and_dead_letters_nothing(
    cut_seconds: float,
    app_client: AppClient,
    amqp_url: str,
    exchange_name: str,
    service_queue: str,
    rabbit_bus: RabbitMQBus,
    pool: asyncpg.Pool,
    migrated_url: str,
    world: World,
    build: type[Builders],
) -> None:
    proxy, proxied_url = await proxy_database(migrated_url)
    t0 = world.clock.now()
    tenants = [build.tenant() for _ in range(TENANTS)]
    first = {
        tenant: build.subscription_updated(
            tenant,
            build.snapshot(subscription_id=f"sub_{tenant}", customer_id=f"cus_{tenant}"),
            created=t0,
        )
        for tenant in tenants
    }
    during: list[Any] = []
    final: dict[str, SubscriptionSnapshot] = {}
    for tenant in tenants:
        states = _journey(build, f"sub_{tenant}", f"cus_{tenant}")
        for step, state in enumerate(states, start=1):
            created = t0 + timedelta(minutes=step)
            during.append(build.subscription_updated(tenant, state, created=created))
        final[tenant] = world.gateway.put(states[-1])  # Stripe's state after the journey
    random.Random(17).shuffle(during)  # Stripe does not order events
    retries_before = TRANSIENT_RETRIES.labels(service_queue)._value.get()

    try:
        async with app_client(
            gateway=world.gateway,
            amqp_url=amqp_url,
            billing_exchange=exchange_name,
            database_url=proxied_url,
        ) as _:
            for event in first.values():
                await rabbit_bus.publish(OutgoingMessage.from_event(event))
            first_ids = [str(e.id) for e in first.values()]
            assert await wait_until(lambda: _count_is(pool, first_ids, TENANTS), timeout=20)

            await proxy.cut()
            cut_at = time.monotonic()
            for event in during:
                await rabbit_bus.publish(OutgoingMessage.from_event(event))
            await asyncio.sleep(max(0.0, cut_seconds - (time.monotonic() - cut_at)))
            # Still down: nothing applied, nothing given up on, the consumer not spinning.
            ids = [str(e.id) for e in during]
            assert await _applied(pool, ids) == 0
            assert await _queue_depth(amqp_url, dead_letter_queue(service_queue)) == 0
            retries_during_cut = TRANSIENT_RETRIES.labels(service_queue)._value.get()
            retries_during_cut -= retries_before
            assert len(during) <= retries_during_cut <= len(during) * 8

            await proxy.restore()
            restored_at = time.monotonic()
            assert await wait_until(lambda: _count_is(pool, ids, len(ids)), timeout=90)
            recovery_s = time.monotonic() - restored_at
            # Its relay sends what was applied before the app stops: rows left unsent in
            # the worker's database would be published by the next test's relay, on that
            # test's exchange (test_consumer_rabbitmq counted one such cancellation).
            assert await wait_until(lambda: _all_sent(pool, tenants), timeout=20)
    finally:
        await proxy.close()

    print(
        f"cut {cut_seconds:.0f} s: {retries_during_cut:.0f} slow-lane retries for "
        f"{len(during)} messages; all applied {recovery_s:.1f} s after recovery"
    )
    assert await _queue_depth(amqp_url, dead_letter_queue(service_queue)) == 0
    reader = PgAccountReader(pool)
    for tenant in tenants:
        account = await reader.find(tenant)
        assert account is not None
        stripe = final[tenant]
        got = (account.plan, account.status, account.cancel_at_period_end)
        assert got == (stripe.plan, stripe.status, stripe.cancel_at_period_end), tenant
        assert account.stripe_subscription_id == stripe.subscription_id
    # Applied once: each tenant's cancellation was scheduled once, however many times
    # its messages went round the slow lane.
    cancels = await pool.fetch(
        "SELECT tenant_id, count(*) AS n FROM subscriptions.outbox "
        "WHERE tenant_id = ANY($1::text[]) AND body->>'type' = 'subscription.cancel_scheduled' "
        "GROUP BY tenant_id",
        tenants,
    )
    assert {row["tenant_id"]: row["n"] for row in cancels} == dict.fromkeys(tenants, 1)


async def _all_sent(pool: asyncpg.Pool, tenants: list[str]) -> bool:
    unsent: int = await pool.fetchval(
        "SELECT count(*) FROM subscriptions.outbox "
        "WHERE tenant_id = ANY($1::text[]) AND sent_at IS NULL",
        tenants,
    )
    return unsent == 0


async def _count_is(pool: asyncpg.Pool, ids: list[str], expected: int) -> bool:
    try:
        return await _applied(pool, ids) == expected
    except (OSError, asyncpg.PostgresError):
        return False
