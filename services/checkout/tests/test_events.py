"""Events in and out: the outbox publishes, the consumer keeps the session records and the
tenant-plan projection (in-memory bus, then the real RabbitMQ)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_domain.envelope import IntegrationEvent
from billing_domain.event_catalogue import CheckoutSessionCreated, CustomerCreated
from billing_domain.events import (
    CheckoutCompleted,
    SubscriptionActivated,
    SubscriptionCanceled,
    event_from_envelope,
)
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.message import OutgoingMessage
from billing_platform.messaging.rabbitmq import RabbitMQBus
from billing_platform.settings import BillingSettings
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.waiting import wait_until
from checkout.consumer import queue_name
from checkout.main import create_app
from checkout.testing import Running

pytestmark = pytest.mark.integration

Auth = Callable[..., dict[str, str]]
CHECKOUT = "/api/billing/checkout"


def activated(tenant: str, plan: PlanType, at: datetime | None = None) -> SubscriptionActivated:
    return SubscriptionActivated(**_header(tenant, at), **_subscription(plan, "active"))


def canceled(tenant: str, plan: PlanType, at: datetime | None = None) -> SubscriptionCanceled:
    return SubscriptionCanceled(**_header(tenant, at), **_subscription(plan, "canceled"))


def _header(tenant: str, at: datetime | None) -> dict[str, Any]:
    at = at or datetime.now(UTC)
    return {
        "id": uuid.uuid4(),
        "occurred_at": at,
        "tenant_id": tenant,
        "source": "subscriptions",
        "causation_id": f"evt_{uuid.uuid4().hex[:10]}",
        "stripe_created": at,
    }


def _subscription(plan: PlanType, status: str) -> dict[str, Any]:
    return {
        "stripe_subscription_id": "sub_x",
        "stripe_customer_id": "cus_x",
        "plan": plan,
        "status": SubscriptionStatus(status),
    }


async def checkout_status(client: httpx.AsyncClient, headers: dict[str, str], plan: str) -> int:
    response = await client.post(CHECKOUT, json={"plan": plan}, headers=headers)
    return response.status_code


async def test_checkout_publishes_customer_created_and_session_created(
    running: Running, auth: Auth, new_tenant: Callable[[], str]
) -> None:
    tenant = new_tenant()
    response = await running.client.post(CHECKOUT, json={"plan": "team"}, headers=auth(tenant))
    session_id = response.json()["session_id"]

    def published() -> list[IntegrationEvent]:
        return [
            event_from_envelope(json.loads(m.body))
            for m in running.bus.published
            if json.loads(m.body)["tenant_id"] == tenant
        ]

    assert await wait_until(lambda: len(published()) == 2)
    session, customer = sorted(published(), key=lambda e: e.type)
    assert (session.type, customer.type) == ("checkout.session_created", "customer.created")
    assert isinstance(session, CheckoutSessionCreated)
    assert isinstance(customer, CustomerCreated)
    assert session.checkout_session_id == session_id
    assert session.plan is PlanType.TEAM
    assert session.stripe_customer_id == customer.stripe_customer_id
    assert {session.source, customer.source} == {"checkout"}
    keys = {m.routing_key for m in running.bus.published if m.message_id == str(session.id)}
    assert keys == {"billing.checkout.session_created"}


async def test_the_plan_projection_follows_subscription_events(
    running: Running, auth: Auth, new_tenant: Callable[[], str]
) -> None:
    tenant = new_tenant()
    headers = auth(tenant)
    await running.bus.publish(OutgoingMessage.from_event(activated(tenant, PlanType.SOLO)))
    assert await wait_until(lambda: _status_is(running.client, headers, "solo", 409))
    conflict = await running.client.post(CHECKOUT, json={"plan": "solo"}, headers=headers)
    assert conflict.json()["error"]["code"] == "already_on_plan"
    assert await checkout_status(running.client, headers, "team") == 409

    await running.bus.publish(OutgoingMessage.from_event(canceled(tenant, PlanType.SOLO)))
    assert await wait_until(lambda: _status_is(running.client, headers, "solo", 200))


async def _status_is(
    client: httpx.AsyncClient, headers: dict[str, str], plan: str, want: int
) -> bool:
    return await checkout_status(client, headers, plan) == want


async def test_checkout_completed_updates_the_session_record(
    running: Running, auth: Auth, new_tenant: Callable[[], str], migrated_url: str
) -> None:
    tenant = new_tenant()
    started = await running.client.post(CHECKOUT, json={"plan": "solo"}, headers=auth(tenant))
    session_id = started.json()["session_id"]
    completed = CheckoutCompleted(
        **{**_header(tenant, None), "source": "webhooks"},  # its one publisher
        checkout_session_id=session_id,
        stripe_customer_id="cus_x",
        stripe_subscription_id="sub_x",
        plan=PlanType.SOLO,
        trial=False,
        payment_status="paid",
        amount=900,
        currency="usd",
    )
    message = OutgoingMessage.from_event(completed)
    await running.bus.publish(message)
    await running.bus.publish(message)  # a redelivery is applied once (inbox)
    await running.bus.drain()
    conn = await asyncpg.connect(migrated_url)
    try:
        row = await conn.fetchrow(
            "SELECT status, payment_status, completed_at FROM checkout.checkout_sessions "
            "WHERE session_id = $1",
            session_id,
        )
        inbox = await conn.fetchval(
            "SELECT count(*) FROM checkout.inbox WHERE message_id = $1", message.message_id
        )
    finally:
        await conn.close()
    assert row is not None
    assert (row["status"], row["payment_status"]) == ("complete", "paid")
    assert row["completed_at"] is not None
    assert inbox == 1


async def test_an_undecodable_event_is_dead_lettered(running: Running) -> None:
    bad = OutgoingMessage(
        message_id=str(uuid.uuid4()), routing_key="billing.subscription.activated", body=b"{nope"
    )
    wrong = OutgoingMessage(
        message_id=str(uuid.uuid4()),
        routing_key="billing.subscription.activated",
        body=json.dumps({"type": "subscription.activated", "schema_version": 99}).encode(),
    )
    await running.bus.publish(bad)
    await running.bus.publish(wrong)
    await running.bus.drain()
    dead = running.bus.dead_letters[queue_name("billing.events")]
    assert [m.message_id for m in dead] == [bad.message_id, wrong.message_id]


# -- through the real RabbitMQ ------------------------------------------------------------


@pytest.fixture
async def rabbit_app(
    settings: BillingSettings, amqp_url: str, exchange_name: str
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings.model_copy(update={"amqp_url": amqp_url, "billing_exchange": exchange_name})
    )
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
            yield client
    await _delete_queues(amqp_url, queue_name(exchange_name))


async def _delete_queues(amqp_url: str, *queues: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for queue in queues:
            await channel.queue_delete(queue)
            await channel.queue_delete(f"{queue}.dlq")
    finally:
        await connection.close()


async def test_through_rabbitmq_events_flow_both_ways(
    rabbit_app: httpx.AsyncClient,
    rabbit_bus: RabbitMQBus,
    amqp_url: str,
    exchange_name: str,
    auth: Auth,
    new_tenant: Callable[[], str],
) -> None:
    tenant = new_tenant()
    async with EventCollector(amqp_url, exchange_name, "billing.#") as collector:
        assert await checkout_status(rabbit_app, auth(tenant), "solo") == 200
        assert await collector.wait_for(2)
        assert sorted(collector.types()) == ["checkout.session_created", "customer.created"]
        assert {body["tenant_id"] for body in collector.bodies()} == {tenant}
    await rabbit_bus.publish(OutgoingMessage.from_event(activated(tenant, PlanType.SOLO)))
    assert await wait_until(lambda: _status_is(rabbit_app, auth(tenant), "solo", 409))
