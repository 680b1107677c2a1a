import asyncio
import itertools

import pytest
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.messaging.message import IncomingMessage, OutgoingMessage, PoisonMessage
from billing_platform.messaging.topic import topic_matches

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("binding", "key", "matches"),
    [
        ("billing.#", "billing.subscription.canceled", True),
        ("billing.#", "billing", True),
        ("billing.*", "billing.subscription.canceled", False),
        ("billing.subscription.*", "billing.subscription.canceled", True),
        ("billing.*.canceled", "billing.subscription.canceled", True),
        ("#", "anything.at.all", True),
        ("billing.invoice.paid", "billing.invoice.paid", True),
        ("billing.invoice.paid", "billing.invoice.payment_failed", False),
        ("#.paid", "billing.invoice.paid", True),
    ],
)
def test_topic_matching(binding: str, key: str, matches: bool) -> None:
    assert topic_matches(binding, key) is matches


def _msg(n: int, key: str = "billing.invoice.paid") -> OutgoingMessage:
    return OutgoingMessage(message_id=f"m{n}", routing_key=key, body=b"{}")


async def test_routes_to_bound_queues_only() -> None:
    bus = InMemoryBus()
    got: dict[str, list[str]] = {"invoices": [], "subs": []}

    async def on(queue: str, message: IncomingMessage) -> None:
        got[queue].append(message.message_id)

    await bus.subscribe("invoices", ["billing.invoice.*"], lambda m: on("invoices", m))
    await bus.subscribe("subs", ["billing.subscription.#"], lambda m: on("subs", m))
    await bus.publish(_msg(1))
    await bus.publish(_msg(2, "billing.subscription.canceled"))
    await bus.drain()
    assert got == {"invoices": ["m1"], "subs": ["m2"]}
    await bus.close()


async def test_leaving_the_block_stops_every_consumer_and_closes_the_bus() -> None:
    async with InMemoryBus() as bus:
        await bus.subscribe("invoices", ["billing.invoice.*"], lambda m: asyncio.sleep(0))
        (consumer,) = [t for t in asyncio.all_tasks() if t.get_name() == "bus-consume-invoices"]
        assert await bus.is_ready()
    assert consumer.done()  # nothing left for the garbage collector to destroy pending
    assert not await bus.is_ready()
    with pytest.raises(ConnectionError):
        await bus.publish(_msg(1))


async def test_failing_handler_is_redelivered_then_dead_lettered() -> None:
    bus = InMemoryBus()
    deliveries: list[tuple[str, bool]] = []

    async def flaky(message: IncomingMessage) -> None:
        deliveries.append((message.message_id, message.redelivered))
        if message.message_id == "m1" and len([d for d in deliveries if d[0] == "m1"]) < 2:
            raise RuntimeError("transient")
        if message.message_id == "m2":
            raise RuntimeError("always")

    await bus.subscribe("q", ["#"], flaky, delivery_limit=3)
    for n in (1, 2, 3):
        await bus.publish(_msg(n))
    await bus.drain()
    assert deliveries.count(("m1", True)) == 1
    assert [d for d in deliveries if d[0] == "m2"] == [("m2", False), ("m2", True), ("m2", True)]
    assert ("m3", False) in deliveries
    assert [m.message_id for m in bus.dead_letters["q"]] == ["m2"]
    await bus.close()


async def test_poison_is_dead_lettered_at_once() -> None:
    bus = InMemoryBus()
    calls = 0

    async def poison(message: IncomingMessage) -> None:
        nonlocal calls
        calls += 1
        raise PoisonMessage("cannot parse")

    await bus.subscribe("q", ["#"], poison)
    await bus.publish(_msg(1))
    await bus.drain()
    assert calls == 1
    assert [m.message_id for m in bus.dead_letters["q"]] == ["m1"]
    await bus.close()
    with pytest.raises(ConnectionError):
        await bus.publish(_msg(2))
    assert not await bus.is_ready()


async def test_one_consumer_per_queue() -> None:
    bus = InMemoryBus()

    async def handler(message: IncomingMessage) -> None:
        await asyncio.sleep(0)

    await bus.subscribe("q", ["#"], handler)
    with pytest.raises(ValueError, match="already has a consumer"):
        await bus.subscribe("q", ["#"], handler)
    await bus.close()


async def test_transient_failures_wait_and_never_count_against_the_limit() -> None:
    """The in-memory bus keeps the RabbitMQ bus's slow lane: a transient failure waits
    its delay (the queue flowing meanwhile), comes back with a fresh delivery count,
    and is never dead-lettered however many times it happens."""
    bus = InMemoryBus(retry_delays_s=(0.05, 0.1))
    seen: list[tuple[str, int, float]] = []
    loop = asyncio.get_running_loop()

    async def outage(message: IncomingMessage) -> None:
        seen.append((message.message_id, message.delivery_count, loop.time()))
        if message.message_id == "m1" and len([s for s in seen if s[0] == "m1"]) <= 6:
            raise ConnectionRefusedError("database down")

    await bus.subscribe("q", ["#"], outage, delivery_limit=2)
    await bus.publish(_msg(1))
    await bus.publish(_msg(2))
    await bus.drain()
    ones = [s for s in seen if s[0] == "m1"]
    assert len(ones) == 7
    assert {s[1] for s in ones} == {0}
    gaps = [b[2] - a[2] for a, b in itertools.pairwise(ones)]
    assert gaps[0] >= 0.045
    assert all(gap >= 0.095 for gap in gaps[1:]), gaps
    assert seen[1][0] == "m2"  # not held up behind the failing message
    assert "q" not in bus.dead_letters
    await bus.close()
