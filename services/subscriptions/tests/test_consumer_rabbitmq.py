"""The consumer on real RabbitMQ and Postgres: redelivery, disorder, a lost consumer, poison."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aio_pika
import asyncpg
import pytest
from billing_domain.errors import GatewayUnavailable
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.message import IncomingMessage, OutgoingMessage
from billing_platform.messaging.rabbitmq import RabbitMQBus, dead_letter_queue
from billing_platform.testing.tcp_proxy import TcpProxy
from billing_platform.testing.waiting import wait_until
from subscriptions.adapters.postgres import PgAccountReader, PgSubscriptionsUnitOfWork
from subscriptions.consumer import BINDING_KEYS, billing_event_handler
from subscriptions.testing import AppClient, Builders, World

pytestmark = pytest.mark.integration


async def inbox_count(pool: asyncpg.Pool, message_ids: list[str]) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM subscriptions.inbox WHERE message_id = ANY($1::text[])", message_ids
    )
    return count


async def outbox_types(pool: asyncpg.Pool, tenant: str) -> list[str]:
    rows = await pool.fetch(
        "SELECT body->>'type' AS type FROM subscriptions.outbox WHERE tenant_id = $1 ORDER BY id",
        tenant,
    )
    return [row["type"] for row in rows]


@pytest.fixture
async def probe(amqp_url: str, exchange_name: str) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """A queue catching every subscription.* message published on the test's exchange."""
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, routing_key="billing.#")
    yield queue
    await connection.close()


async def drain(queue: aio_pika.abc.AbstractQueue) -> list[dict[str, Any]]:
    bodies = []
    while (message := await queue.get(fail=False)) is not None:
        await message.ack()
        bodies.append(json.loads(message.body))
    return bodies


async def test_twice_and_out_of_order_ends_on_stripes_final_state(
    app_client: AppClient,
    amqp_url: str,
    exchange_name: str,
    service_queue: str,
    rabbit_bus: RabbitMQBus,
    pool: asyncpg.Pool,
    probe: aio_pika.abc.AbstractQueue,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    t0 = world.clock.now()
    snap = build.snapshot
    timeline = [
        build.checkout_completed(tenant, customer_id="cus_1", subscription_id="sub_1", created=t0),
        build.subscription_updated(tenant, snap(status=SubscriptionStatus.INCOMPLETE), created=t0),
        build.subscription_updated(tenant, snap(), created=t0 + timedelta(seconds=1)),
        build.payment_failed(
            tenant, invoice_id="in_2", subscription_id="sub_1", created=t0 + timedelta(days=30)
        ),
        build.subscription_updated(
            tenant, snap(status=SubscriptionStatus.PAST_DUE), created=t0 + timedelta(days=30)
        ),
        build.invoice_paid(
            tenant, invoice_id="in_2", subscription_id="sub_1", created=t0 + timedelta(days=33)
        ),
        build.subscription_updated(
            tenant,
            snap(plan=PlanType.ENTERPRISE, cancel_at_period_end=True),
            created=t0 + timedelta(days=33, seconds=1),
        ),
    ]
    world.gateway.put(snap(plan=PlanType.ENTERPRISE, cancel_at_period_end=True))  # Stripe now
    # The database is the whole run's (one per xdist worker): another test's app may have
    # stopped before its relay sent everything (test_consumer_outage did, a cancellation
    # left unsent), and this test's relay publishes those rows too. A neighbour applied
    # here without a relay leaves such rows on purpose: what is counted is this tenant's.
    neighbour = await _applied_without_relay(pool, world, build, build.tenant())
    deliveries = [timeline[i] for i in (6, 2, 0, 4, 3, 1, 5, 2, 6, 0)]  # shuffled, doubled
    async with app_client(
        gateway=world.gateway, amqp_url=amqp_url, billing_exchange=exchange_name
    ) as _:
        for event in deliveries:
            await rabbit_bus.publish(OutgoingMessage.from_event(event))
        ids = [str(e.id) for e in timeline]
        assert await wait_until(lambda: _all_in(pool, ids), timeout=20)
        assert await wait_until(lambda: _outbox_sent(pool, tenant), timeout=10)
        assert await wait_until(lambda: _outbox_sent(pool, neighbour), timeout=10)

    account = await PgAccountReader(pool).find(tenant)
    assert account is not None
    assert (account.plan, account.status) == (PlanType.ENTERPRISE, SubscriptionStatus.ACTIVE)
    assert account.cancel_at_period_end is True
    assert account.payment_failure is None
    assert account.stripe_customer_id == "cus_1"
    published = await outbox_types(pool, tenant)
    assert published.count("subscription.activated") == 1
    assert set(published) <= {
        "subscription.activated",
        "subscription.plan_changed",
        "subscription.cancel_scheduled",
        "entitlements.changed",
    }
    seen = [m for m in await drain(probe) if m["source"] == "subscriptions"]
    ours = [m for m in seen if m["tenant_id"] == tenant]
    assert sorted(m["type"] for m in ours) == sorted(published)
    theirs = [m["type"] for m in seen if m["tenant_id"] == neighbour]
    assert sorted(theirs) == sorted(await outbox_types(pool, neighbour))
    assert "subscription.cancel_scheduled" in theirs


async def _applied_without_relay(
    pool: asyncpg.Pool, world: World, build: type[Builders], tenant: str
) -> str:
    """``tenant``'s cancellation scheduled in the database, its messages still unsent."""
    state = build.snapshot(
        subscription_id="sub_neighbour", customer_id="cus_neighbour", cancel_at_period_end=True
    )
    world.gateway.put(state)
    event = build.subscription_updated(tenant, state, created=world.clock.now())
    message = OutgoingMessage.from_event(event)
    handle = billing_event_handler(
        lambda: PgSubscriptionsUnitOfWork(pool), world.gateway, world.clock
    )
    await handle(
        IncomingMessage(
            message_id=message.message_id, routing_key=message.routing_key, body=message.body
        )
    )
    assert "subscription.cancel_scheduled" in await outbox_types(pool, tenant)
    assert not await _outbox_sent(pool, tenant)
    return tenant


async def _all_in(pool: asyncpg.Pool, ids: list[str]) -> bool:
    return await inbox_count(pool, ids) == len(ids)


async def _outbox_sent(pool: asyncpg.Pool, tenant: str) -> bool:
    unsent: int = await pool.fetchval(
        "SELECT count(*) FROM subscriptions.outbox WHERE tenant_id = $1 AND sent_at IS NULL",
        tenant,
    )
    return unsent == 0


async def test_consumer_lost_between_commit_and_ack_applies_once(
    amqp_url: str,
    exchange_name: str,
    service_queue: str,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    event = build.subscription_updated(tenant, build.snapshot(), created=world.clock.now())
    host_port = amqp_url.rsplit("@", 1)[1].split("/")[0]
    host, port = host_port.split(":")
    proxy = TcpProxy(host, int(port))
    doomed = RabbitMQBus(
        amqp_url.replace(host_port, f"127.0.0.1:{await proxy.start()}"), exchange=exchange_name
    )
    survivor = RabbitMQBus(amqp_url, exchange=exchange_name)
    handle = billing_event_handler(
        lambda: PgSubscriptionsUnitOfWork(pool), world.gateway, world.clock
    )
    committed = asyncio.Event()
    redeliveries: list[bool] = []

    async def commit_then_die(message: IncomingMessage) -> None:
        await handle(message)
        committed.set()
        await proxy.cut()  # the process is gone before it could ack
        await asyncio.sleep(5)

    async def survive(message: IncomingMessage) -> None:
        redeliveries.append(message.redelivered)
        await handle(message)

    try:
        await doomed.subscribe(service_queue, list(BINDING_KEYS), commit_then_die, prefetch=1)
        await doomed.publish(OutgoingMessage.from_event(event))
        await asyncio.wait_for(committed.wait(), 10)
        await survivor.subscribe(service_queue, list(BINDING_KEYS), survive, prefetch=1)
        assert await wait_until(lambda: bool(redeliveries), timeout=15)
    finally:
        await survivor.close()
        await proxy.close()
        await doomed.close()
    assert redeliveries == [True]
    assert await outbox_types(pool, tenant) == ["subscription.activated", "entitlements.changed"]
    account = await PgAccountReader(pool).find(tenant)
    assert account is not None
    assert account.plan is PlanType.TEAM


async def test_poison_goes_to_the_dlq_and_the_queue_keeps_flowing(
    app_client: AppClient,
    amqp_url: str,
    exchange_name: str,
    service_queue: str,
    rabbit_bus: RabbitMQBus,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    good = build.subscription_updated(tenant, build.snapshot(), created=world.clock.now())
    ill_typed = good.to_envelope() | {"schema_version": 99}
    # A tie only Stripe can settle, while Stripe is down: a transient failure, so it
    # waits in the slow lane (not dead-lettered) and is applied once Stripe is back.
    stuck_tenant = build.tenant()
    first = build.subscription_updated(stuck_tenant, build.snapshot(), created=world.clock.now())
    tie = build.subscription_updated(
        stuck_tenant, build.snapshot(plan=PlanType.SOLO), created=world.clock.now()
    )
    later = [
        build.subscription_updated(
            tenant,
            build.snapshot(cancel_at_period_end=True),
            created=world.clock.now() + timedelta(seconds=i + 1),
        )
        for i in range(3)
    ]
    async with app_client(
        gateway=world.gateway, amqp_url=amqp_url, billing_exchange=exchange_name
    ) as _:
        await rabbit_bus.publish(OutgoingMessage.from_event(first))
        assert await wait_until(lambda: _all_in(pool, [str(first.id)]))
        world.gateway.fail_with = GatewayUnavailable("Stripe is down")
        for body, key, message_id in (
            (b"{not json", "billing.invoice.paid", "poison-1"),
            (json.dumps(ill_typed).encode(), good.routing_key, "poison-2"),
        ):
            await rabbit_bus.publish(
                OutgoingMessage(message_id=message_id, routing_key=key, body=body)
            )
        await rabbit_bus.publish(OutgoingMessage.from_event(tie))
        await rabbit_bus.publish(OutgoingMessage.from_event(good))
        for event in later:
            await rabbit_bus.publish(OutgoingMessage.from_event(event))
        ids = [str(e.id) for e in (good, *later)]
        assert await wait_until(lambda: _all_in(pool, ids), timeout=20)

        dead = await _dead_letters(amqp_url, service_queue, expected=2)
        assert await inbox_count(pool, [str(tie.id)]) == 0  # still waiting for Stripe
        world.gateway.put(build.snapshot(plan=PlanType.SOLO))  # what Stripe says once back
        world.gateway.fail_with = None
        assert await wait_until(lambda: _all_in(pool, [str(tie.id)]), timeout=30)
        assert await _dead_letters(amqp_url, service_queue, expected=1, timeout=1) == []
    assert sorted(m.message_id or "" for m in dead) == ["poison-1", "poison-2"]
    account = await PgAccountReader(pool).find(tenant)
    assert account is not None
    assert account.cancel_at_period_end is True
    assert await inbox_count(pool, ["poison-1", "poison-2"]) == 0
    stuck = await PgAccountReader(pool).find(stuck_tenant)
    assert stuck is not None
    assert stuck.plan is PlanType.SOLO


async def _dead_letters(
    amqp_url: str, queue: str, *, expected: int, timeout: float = 30
) -> list[Any]:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        dlq = await channel.get_queue(dead_letter_queue(queue))
        dead: list[Any] = []

        async def fetch() -> bool:
            message = await dlq.get(fail=False)
            if message is not None:
                await message.ack()
                dead.append(message)
            return len(dead) >= expected

        await wait_until(fetch, timeout=timeout)
        return dead
    finally:
        await connection.close()
