"""The consumer on the real broker (AMQP_URL): a billing event published on the exchange
the services use reaches the service's own queue and binding, and its mail arrives at a
real SMTP server (aiosmtpd, started here); a copy, a replay or a redelivery after a lost
ack sends nothing twice; malformed messages go to the DLQ and the rest still flow.

Every queue here is declared by this process on the test's exchange, so the
``exchange_name`` fixture deletes it (and its DLQ and slow lane) afterwards."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import aio_pika
import asyncpg
import pytest
from asgi_lifespan import LifespanManager
from billing_cli.mail_catcher import MailCatcher
from billing_domain.envelope import IntegrationEvent
from billing_platform.messaging.message import IncomingMessage, OutgoingMessage
from billing_platform.messaging.rabbitmq import RabbitMQBus, dead_letter_queue
from billing_platform.settings import BillingSettings
from billing_platform.testing.tcp_proxy import TcpProxy
from billing_platform.testing.waiting import wait_until
from fastapi import FastAPI
from notifications.adapters.postgres import PgNotificationsUnitOfWork
from notifications.adapters.smtp import SmtpMailTransport
from notifications.config import SmtpConfig
from notifications.consumer import (
    BINDING_KEYS,
    DELIVERY_LIMIT,
    billing_event_handler,
    queue_name,
)
from notifications.main import create_app
from notifications.sender import MailSender
from notifications.testing import Events, World
from notifications.use_cases.sending import SenderDeps

pytestmark = pytest.mark.integration

JWT_SECRET = "notifications-broker-tests-secret-0123456789"


@asynccontextmanager
async def running_service(
    migrated_url: str, amqp_url: str, exchange: str, smtp_url: str
) -> AsyncIterator[FastAPI]:
    """The whole service as ``serve notifications`` builds it: its bus on the broker,
    its queue and binding on ``exchange``, its sender loop, its SMTP transport."""
    settings = BillingSettings(
        database_url=migrated_url,
        amqp_url=amqp_url,
        billing_exchange=exchange,
        jwt_secret=JWT_SECRET,
        smtp_url=smtp_url,
        app_base_url="https://app.example",
    )
    app = create_app(settings)  # the system clock, as in production
    async with LifespanManager(app):
        yield app


async def in_inbox(pool: asyncpg.Pool, message_ids: list[str]) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM notifications.inbox WHERE message_id = ANY($1::text[])",
        message_ids,
    )
    return count


async def send_rows(pool: asyncpg.Pool, tenant: str) -> list[tuple[str, str]]:
    rows = await pool.fetch(
        "SELECT kind, status FROM notifications.sends WHERE tenant_id = $1 ORDER BY id", tenant
    )
    return [(row["kind"], row["status"]) for row in rows]


def mails_to(catcher: MailCatcher, address: str) -> list[str | None]:
    return [mail.kind for mail in catcher.messages if mail.to == address]


def replayed(event: IntegrationEvent) -> IntegrationEvent:
    """The same Stripe event published again under a new message id (a webhook replay)."""
    return dataclasses.replace(event, id=uuid.uuid4())


async def test_an_event_on_the_broker_mails_once_however_often_it_comes(
    migrated_url: str,
    amqp_url: str,
    exchange_name: str,
    rabbit_bus: RabbitMQBus,
    pool: asyncpg.Pool,
    catcher: MailCatcher,
    world: World,
    events: Events,
    new_tenant: Callable[[], str],
) -> None:
    tenant = new_tenant()
    address = f"{tenant}@example.com"
    customer = events.customer(tenant, address)
    failed = events.payment_failed(tenant, "in_broker", amount=4900)
    copy = replayed(failed)
    async with running_service(migrated_url, amqp_url, exchange_name, catcher.url):
        await known_address(rabbit_bus, pool, customer)
        for event in (failed, failed, copy):  # the same message twice, then a replay
            await rabbit_bus.publish(OutgoingMessage.from_event(event))
        assert await wait_until(lambda: mails_to(catcher, address) != [], timeout=30)
        ids = [str(customer.id), str(failed.id), str(copy.id)]
        assert await wait_until(lambda: _all_in(pool, ids), timeout=20)
        paid = events.paid(tenant, "in_broker", amount=4900)
        await rabbit_bus.publish(OutgoingMessage.from_event(paid))
        await rabbit_bus.publish(OutgoingMessage.from_event(replayed(paid)))
        assert await wait_until(lambda: len(mails_to(catcher, address)) >= 2, timeout=30)
        assert await wait_until(lambda: _settled(pool, tenant), timeout=20)

    assert mails_to(catcher, address) == ["payment_failed", "payment_recovered"]
    assert await send_rows(pool, tenant) == [
        ("payment_failed", "sent"),
        ("payment_recovered", "sent"),
    ]
    [mail] = [m for m in catcher.messages if m.to == address and m.kind == "payment_failed"]
    assert "$49.00" in mail.subject
    assert "https://invoice.stripe.test/in_broker" in mail.text


async def test_a_lost_ack_redelivers_the_event_and_nothing_is_mailed_twice(
    amqp_url: str,
    exchange_name: str,
    pool: asyncpg.Pool,
    catcher: MailCatcher,
    world: World,
    events: Events,
    new_tenant: Callable[[], str],
) -> None:
    """The service's handler on its own queue and binding commits, then its connection
    dies before the ack; the broker hands the message to the next consumer."""
    tenant = new_tenant()
    address = f"{tenant}@example.com"
    customer = events.customer(tenant, address)
    failed = events.payment_failed(tenant, "in_lost_ack")
    queue = queue_name(exchange_name)
    uow_factory = partial(PgNotificationsUnitOfWork, pool)
    config = world.config
    transport = SmtpMailTransport(
        SmtpConfig.from_url(catcher.url), sender=config.mail_from, reply_to=None
    )
    sender = MailSender(
        SenderDeps(uow_factory=uow_factory, transport=transport, clock=world.clock, config=config)
    )
    handle = billing_event_handler(uow_factory, world.clock, config.renewal_intervals, sender.wake)

    host_port = amqp_url.rsplit("@", 1)[1].split("/")[0]
    host, port = host_port.split(":")
    proxy = TcpProxy(host, int(port))
    doomed = RabbitMQBus(
        amqp_url.replace(host_port, f"127.0.0.1:{await proxy.start()}"), exchange=exchange_name
    )
    survivor = RabbitMQBus(amqp_url, exchange=exchange_name)
    committed = asyncio.Event()
    redelivered: list[bool] = []
    handled = asyncio.Event()

    async def commit_then_die(message: IncomingMessage) -> None:
        await handle(message)
        if message.message_id == str(failed.id):
            committed.set()
            await proxy.cut()  # the process is gone before it could ack
            await asyncio.sleep(5)

    async def survive(message: IncomingMessage) -> None:
        redelivered.append(message.redelivered)
        await handle(message)
        handled.set()

    try:
        await doomed.subscribe(queue, BINDING_KEYS, commit_then_die, prefetch=1,
                               delivery_limit=DELIVERY_LIMIT)  # fmt: skip
        await doomed.publish(OutgoingMessage.from_event(customer))
        await doomed.publish(OutgoingMessage.from_event(failed))
        await asyncio.wait_for(committed.wait(), 15)
        await survivor.subscribe(queue, BINDING_KEYS, survive, prefetch=1,
                                 delivery_limit=DELIVERY_LIMIT)  # fmt: skip
        await asyncio.wait_for(handled.wait(), 15)
    finally:
        await survivor.close()
        await proxy.close()
        await doomed.close()
    assert redelivered == [True]
    assert [outcome.status for outcome in await sender.drain()] == ["sent"]
    assert await sender.drain() == []
    assert mails_to(catcher, address) == ["payment_failed"]
    assert await send_rows(pool, tenant) == [("payment_failed", "sent")]


async def test_malformed_messages_go_to_the_dlq_and_the_others_are_mailed(
    migrated_url: str,
    amqp_url: str,
    exchange_name: str,
    rabbit_bus: RabbitMQBus,
    pool: asyncpg.Pool,
    catcher: MailCatcher,
    world: World,
    events: Events,
    new_tenant: Callable[[], str],
) -> None:
    before, after = new_tenant(), new_tenant()
    good = events.payment_failed(before, "in_before")
    ill_typed = good.to_envelope() | {"schema_version": 99}
    no_tenant = good.to_envelope() | {"id": str(uuid.uuid4()), "tenant_id": ""}
    poison: list[tuple[str, str, bytes]] = [
        ("poison-json", "billing.invoice.payment_failed", b"{not json"),
        ("poison-version", good.routing_key, json.dumps(ill_typed, default=str).encode()),
        ("poison-tenant", good.routing_key, json.dumps(no_tenant, default=str).encode()),
    ]
    async with running_service(migrated_url, amqp_url, exchange_name, catcher.url):
        for tenant in (before, after):
            await known_address(rabbit_bus, pool, events.customer(tenant, f"{tenant}@x.test"))
        await rabbit_bus.publish(OutgoingMessage.from_event(good))
        for message_id, key, body in poison:
            message = OutgoingMessage(message_id=message_id, routing_key=key, body=body)
            await rabbit_bus.publish(message)
        later = events.payment_failed(after, "in_after")
        await rabbit_bus.publish(OutgoingMessage.from_event(later))
        dead = await _dead_letters(amqp_url, queue_name(exchange_name), expected=len(poison))
        addresses = [f"{tenant}@x.test" for tenant in (before, after)]
        assert await wait_until(lambda: all(mails_to(catcher, a) for a in addresses), timeout=30)

    assert sorted(m["message_id"] for m in dead) == sorted(p[0] for p in poison)
    assert await in_inbox(pool, [p[0] for p in poison]) == 0
    for tenant in (before, after):
        assert mails_to(catcher, f"{tenant}@x.test") == ["payment_failed"]


async def known_address(bus: RabbitMQBus, pool: asyncpg.Pool, customer: IntegrationEvent) -> None:
    """Publish the tenant's ``customer.updated`` and wait until the service applied it
    (a mail queued before the address is known would wait for its next retry)."""
    await bus.publish(OutgoingMessage.from_event(customer))
    assert await wait_until(lambda: _all_in(pool, [str(customer.id)]), timeout=20)


async def _all_in(pool: asyncpg.Pool, ids: list[str]) -> bool:
    return await in_inbox(pool, ids) == len(ids)


async def _settled(pool: asyncpg.Pool, tenant: str) -> bool:
    return all(status == "sent" for _, status in await send_rows(pool, tenant))


async def _dead_letters(
    amqp_url: str, queue: str, *, expected: int, timeout: float = 30
) -> list[dict[str, Any]]:
    """Take ``expected`` messages off the queue's DLQ (acking them)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        dlq = await channel.get_queue(dead_letter_queue(queue))
        dead: list[dict[str, Any]] = []

        async def fetch() -> bool:
            message = await dlq.get(fail=False)
            if message is not None:
                await message.ack()
                dead.append({"message_id": message.message_id, "body": message.body})
            return len(dead) >= expected

        assert await wait_until(fetch, timeout=timeout)
        return dead
    finally:
        await connection.close()
