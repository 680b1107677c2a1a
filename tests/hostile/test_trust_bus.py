"""Issue 15 item 6: the bus trusted any publisher. A hand-published
``billing.subscription.updated`` gave a tenant enterprise.

Two layers, each tested here:

1. consumers accept a type only from its one publisher (``source`` and routing key
   checked against ``billing_domain.event_publishers``; else dead-lettered and counted);
2. ``source`` is self-declared, so each service's RabbitMQ user may publish only its own
   routing keys (topic permissions, deploy/rabbitmq/users.sh, run here for real against
   a throwaway vhost of the local broker).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import aio_pika
import pytest
from billing_cli.testing.in_process import Running, Tokens
from billing_domain.events import SubscriptionActivated, SubscriptionUpdated
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.message import IncomingMessage, OutgoingMessage
from billing_platform.messaging.rabbitmq import RabbitMQBus, dead_letter_queue
from billing_platform.testing.waiting import wait_until
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
USERS_SCRIPT = ROOT / "deploy" / "rabbitmq" / "users.sh"


def subscription_event(
    cls: type[SubscriptionUpdated] | type[SubscriptionActivated], tenant: str, source: str
) -> OutgoingMessage:
    now = datetime.now(UTC)
    event = cls(
        id=uuid.uuid4(),
        occurred_at=now,
        tenant_id=tenant,
        source=source,
        causation_id=f"evt_forged_{uuid.uuid4().hex[:10]}",
        stripe_created=now,
        stripe_subscription_id=f"sub_forged_{uuid.uuid4().hex[:8]}",
        stripe_customer_id=f"cus_forged_{uuid.uuid4().hex[:8]}",
        plan=PlanType.ENTERPRISE,
        status=SubscriptionStatus.ACTIVE,
    )
    return OutgoingMessage.from_event(event)


def rejected(queue: str, reason: str) -> float:
    labels = {"queue": queue, "reason": reason}
    return REGISTRY.get_sample_value("billing_events_rejected_total", labels) or 0.0


# -- layer 1: the consumer checks the publisher ---------------------------------------


async def test_a_forged_subscription_update_from_the_wrong_service_grants_nothing(
    running: Running, tokens: Tokens
) -> None:
    """The probe's attack on the subscriptions projection: dead-lettered, still free."""
    tenant = tokens.new_tenant()
    forged = subscription_event(SubscriptionUpdated, tenant, source="checkout")
    await running.bus.publish(forged)
    await running.bus.drain()
    dead = [m.message_id for q in running.bus.dead_letters.values() for m in q]
    assert forged.message_id in dead
    member = tokens.header(tokens.valid(tenant, "member"))
    body = (await running.gateway.get("/api/billing/subscription", headers=member)).json()
    assert body["plan_type"] == "free", body


async def test_a_type_under_another_types_routing_key_is_dead_lettered(
    running: Running, tokens: Tokens
) -> None:
    """Topic permissions bind routing keys, so the body's type must match its key."""
    tenant = tokens.new_tenant()
    genuine = subscription_event(SubscriptionUpdated, tenant, source="webhooks")
    smuggled = OutgoingMessage(
        message_id=genuine.message_id,
        routing_key="billing.subscription.activated",  # a key the subscriptions user owns
        body=genuine.body,
    )
    await running.bus.publish(smuggled)
    await running.bus.drain()
    dead = [m.message_id for q in running.bus.dead_letters.values() for m in q]
    assert smuggled.message_id in dead


async def test_on_rabbitmq_a_foreign_source_goes_to_the_dlq_and_is_counted(
    rabbit_bus: RabbitMQBus, amqp_url: str
) -> None:
    queue = f"trust-{uuid.uuid4().hex[:8]}"
    handled: list[str] = []

    async def handler(message: IncomingMessage) -> None:
        handled.append(message.message_id)

    keys = ["billing.subscription.updated"]
    await rabbit_bus.subscribe(queue, keys, handler)
    before = rejected(queue, "foreign_source")
    forged = subscription_event(SubscriptionUpdated, "tenant_x", source="subscriptions")
    genuine = subscription_event(SubscriptionUpdated, "tenant_x", source="webhooks")
    await rabbit_bus.publish(forged)
    await rabbit_bus.publish(genuine)
    assert await wait_until(lambda: genuine.message_id in handled, timeout=10)
    assert forged.message_id not in handled
    assert rejected(queue, "foreign_source") == before + 1
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.declare_queue(dead_letter_queue(queue), passive=True)
        message = await dlq.get(timeout=5, fail=False)
        assert message is not None
        assert message.message_id == forged.message_id


# -- layer 2: the broker binds routing keys to users ----------------------------------


@pytest.fixture
def broker_users() -> Iterator[tuple[str, dict[str, str]]]:
    """deploy/rabbitmq/users.sh run in a throwaway vhost: (vhost, password per service)."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("rabbitmqctl (as root) is needed to create the broker users")
        pytest.skip("needs rabbitmqctl as root (the local broker's own tool)")
    vhost = f"billing-trust-{uuid.uuid4().hex[:8]}"
    prefix = f"{vhost}-"
    passwords = {
        name: secrets.token_hex(16)
        for name in ("checkout", "subscriptions", "webhooks", "analytics", "notifications")
    }
    env = {
        **os.environ,
        "RABBITMQ_VHOST": vhost,
        "BILLING_USER_PREFIX": prefix,
        **{f"{name.upper()}_AMQP_PASSWORD": pw for name, pw in passwords.items()},
    }
    subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, timeout=60)
    try:
        subprocess.run(["sh", str(USERS_SCRIPT)], check=True, env=env, timeout=120)
        yield vhost, passwords
    finally:
        subprocess.run([ctl, "-q", "delete_vhost", vhost], timeout=60, check=False)
        for name in passwords:
            subprocess.run([ctl, "-q", "delete_user", prefix + name], timeout=60, check=False)


BusAs = Callable[[str], Awaitable[RabbitMQBus]]


@pytest.fixture
async def bus_as(
    broker_users: tuple[str, dict[str, str]],
) -> AsyncIterator[BusAs]:
    vhost, passwords = broker_users
    opened: list[RabbitMQBus] = []

    async def connect(service: str) -> RabbitMQBus:
        user = quote(f"{vhost}-{service}", safe="")
        url = f"amqp://{user}:{passwords[service]}@127.0.0.1:5672/{quote(vhost, safe='')}"
        bus = RabbitMQBus(url)
        await bus.connect()
        opened.append(bus)
        return bus

    yield connect
    for bus in opened:
        await bus.close()


async def test_a_service_user_cannot_publish_another_services_routing_key(bus_as: BusAs) -> None:
    """Forged as ``source: webhooks`` by the subscriptions user: the broker refuses it."""
    subscriptions = await bus_as("subscriptions")
    own = subscription_event(SubscriptionActivated, "tenant_x", source="subscriptions")
    await subscriptions.publish(own)  # its own type: accepted
    forged = subscription_event(SubscriptionUpdated, "tenant_x", source="webhooks")
    with pytest.raises(Exception, match="ACCESS_REFUSED") as caught:
        await subscriptions.publish(forged)
    assert "billing.subscription.updated" in str(caught.value)
    checkout = await bus_as("checkout")
    with pytest.raises(Exception, match="ACCESS_REFUSED"):
        await checkout.publish(forged)


async def test_each_user_consumes_only_its_own_queue_and_the_owner_publishes(
    bus_as: BusAs,
) -> None:
    subscriptions = await bus_as("subscriptions")
    received: list[str] = []

    async def handler(message: IncomingMessage) -> None:
        received.append(message.message_id)

    await subscriptions.subscribe(
        "subscriptions.billing-events", ["billing.subscription.updated"], handler
    )
    webhooks = await bus_as("webhooks")
    genuine = subscription_event(SubscriptionUpdated, "tenant_x", source="webhooks")
    await webhooks.publish(genuine)  # the one publisher of subscription.updated
    assert await wait_until(lambda: genuine.message_id in received, timeout=10)
    with pytest.raises(Exception, match="ACCESS_REFUSED"):
        await subscriptions.subscribe("checkout.billing-events", ["billing.#"], handler)


def test_the_broker_users_topic_permissions_are_the_catalogues_publishers() -> None:
    """deploy/rabbitmq/users.sh spells each user's routing keys as a regex: each key a
    service publishes matches its own pattern and no other service's."""
    import re

    from billing_domain.event_publishers import PUBLISHED

    script = USERS_SCRIPT.read_text()
    # a user's block ends at its first blank line (analytics publishes nothing: '^$')
    user_block = r"^user (\w+) [^\n]*\n(?:[^\n]+\n)*?\s+'(\^billing[^']*)'\s*$"
    patterns = dict(re.findall(user_block, script, re.M))
    assert set(patterns) == set(PUBLISHED)  # analytics: no pattern, nothing published
    every_type = [t for types in PUBLISHED.values() for t in types]
    for service, pattern in patterns.items():
        allowed = {t for t in every_type if re.fullmatch(pattern, f"billing.{t}")}
        assert allowed == set(PUBLISHED[service]), service


async def test_a_service_user_runs_its_own_slow_lane_and_cannot_feed_anothers(
    bus_as: BusAs,
) -> None:
    """Issue 17: the subscriptions user may declare and publish to its queue's slow lane
    (a transient failure comes back through it), not to checkout's."""
    subscriptions = await bus_as("subscriptions")
    seen: list[str] = []

    async def flaky(message: IncomingMessage) -> None:
        seen.append(message.message_id)
        if len(seen) == 1:
            raise ConnectionRefusedError("database down")

    await subscriptions.subscribe(
        "subscriptions.billing-events", ["billing.subscription.updated"], flaky
    )
    webhooks = await bus_as("webhooks")
    genuine = subscription_event(SubscriptionUpdated, "tenant_x", source="webhooks")
    await webhooks.publish(genuine)
    assert await wait_until(lambda: seen == [genuine.message_id] * 2, timeout=15)
    checkout = await bus_as("checkout")
    await checkout.subscribe("checkout.billing-events", ["billing.checkout.#"], flaky)
    connection = subscriptions._connection
    assert connection is not None
    channel = await connection.channel(publisher_confirms=True)
    lane = await channel.get_exchange("checkout.billing-events.retry", ensure=False)
    with pytest.raises(Exception, match="ACCESS_REFUSED"):
        await lane.publish(
            aio_pika.Message(b"{}", headers={"billing-retry-delay": "1"}), routing_key="x"
        )
