"""How a relay learns there is work: in-process after a commit, else LISTEN/NOTIFY.

The in-process wake-up is wired explicitly (``PgUnitOfWork(pool, wake_relay=relay.wake)``,
as each service's bootstrap does): a relay running in the process is not found by schema.
"""

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
from billing_domain.envelope import IntegrationEvent
from billing_platform.db import PgUnitOfWork
from billing_platform.messaging.outbox import OutboxWriter
from billing_platform.messaging.outbox_schema import outbox_channel
from billing_platform.messaging.rabbitmq import RabbitMQBus
from billing_platform.messaging.relay import OutboxRelay
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.waiting import wait_until
from billing_platform.wakeup import PgWakeup

pytestmark = pytest.mark.integration

NEVER = 60.0  # a poll interval no test waits for


@pytest.fixture
async def notifications(database_url: str, schema: str) -> AsyncIterator[list[str]]:
    """The channels NOTIFYed on the schema's outbox channel, as another process sees them."""
    seen: list[str] = []
    conn = await asyncpg.connect(database_url)
    await conn.add_listener(outbox_channel(schema), lambda *args: seen.append(args[2]))
    yield seen
    await conn.close()


async def _write(
    pool: asyncpg.Pool,
    schema: str,
    event: IntegrationEvent,
    commit: bool,
    wake_relay: Callable[[], None] | None = None,
) -> None:
    async with PgUnitOfWork(pool, wake_relay=wake_relay) as uow:
        writer = OutboxWriter(uow.connection, schema, after_commit=uow.after_commit)
        await writer.add(event)
        await writer.add(event)  # a second add in the same unit wakes once
        if commit:
            await uow.commit()


async def test_a_commit_wakes_the_relay_of_this_process_without_a_notify(
    make_event: Callable[[int], IntegrationEvent],
    pool: asyncpg.Pool,
    schema: str,
    rabbit_bus: RabbitMQBus,
    amqp_url: str,
    exchange_name: str,
    notifications: list[str],
) -> None:
    relay = OutboxRelay(pool, schema, rabbit_bus, poll_interval=NEVER)
    stop = asyncio.Event()
    async with EventCollector(amqp_url, exchange_name) as collector:
        task = asyncio.create_task(relay.run(stop))
        await asyncio.sleep(0.3)  # its first look found nothing; it now waits on NEVER
        event = make_event(1)
        await _write(pool, schema, event, commit=True, wake_relay=relay.wake)
        assert await collector.wait_for(1, timeout=5)
        stop.set()
        await asyncio.wait_for(task, 10)
    assert collector.ids() == [str(event.id)]
    assert notifications == []


async def test_a_rolled_back_unit_of_work_runs_no_after_commit_callback(
    make_event: Callable[[int], IntegrationEvent], pool: asyncpg.Pool, schema: str
) -> None:
    calls: list[str] = []
    async with PgUnitOfWork(pool) as uow:
        uow.after_commit(lambda: calls.append("rolled back"))
    async with PgUnitOfWork(pool) as uow:
        uow.after_commit(lambda: calls.append("committed"))
        assert calls == []  # not before the commit
        await uow.commit()
        assert calls == ["committed"]
    assert calls == ["committed"]


async def test_without_a_relay_wired_the_writer_notifies_at_commit(
    make_event: Callable[[int], IntegrationEvent],
    pool: asyncpg.Pool,
    schema: str,
    rabbit_bus: RabbitMQBus,
    notifications: list[str],
) -> None:
    # A relay of the schema runs in this process, but the unit of work was not given its
    # wake-up (a CLI command's): the writer notifies, as for a relay in another process.
    relay = OutboxRelay(pool, schema, rabbit_bus, poll_interval=NEVER)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await _write(pool, schema, make_event(1), commit=False)
    await asyncio.sleep(0.2)
    assert notifications == []  # a rollback notifies nobody
    await _write(pool, schema, make_event(2), commit=True)
    assert await wait_until(lambda: len(notifications) >= 1, timeout=5)
    assert notifications == [outbox_channel(schema)]  # one, though the unit added twice
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_wakeup_tells_a_notification_from_a_poke(pool: asyncpg.Pool, schema: str) -> None:
    wakeup = PgWakeup(pool, outbox_channel(schema))
    stop = asyncio.Event()
    listener = asyncio.create_task(wakeup.listen(stop))
    await wakeup.wait(stop, 5)  # the listener's catch-up look after connecting
    assert wakeup.take_notified() is True
    wakeup.poke()
    await wakeup.wait(stop, 5)
    assert wakeup.take_notified() is False
    await pool.execute("SELECT pg_notify($1, '')", outbox_channel(schema))
    await wakeup.wait(stop, 5)
    assert wakeup.take_notified() is True
    stop.set()
    await asyncio.wait_for(listener, 5)


async def test_wakeup_ignores_a_notification_carrying_its_own_token(
    pool: asyncpg.Pool, schema: str
) -> None:
    wakeup = PgWakeup(pool, outbox_channel(schema))
    stop = asyncio.Event()
    listener = asyncio.create_task(wakeup.listen(stop))
    await wakeup.wait(stop, 5)
    wakeup.take_notified()
    await pool.execute("SELECT pg_notify($1, $2)", outbox_channel(schema), wakeup.token)
    await wakeup.wait(stop, 0.5)  # times out: nothing woke it
    assert wakeup.take_notified() is False
    await pool.execute("SELECT pg_notify($1, $2)", outbox_channel(schema), "another process")
    await wakeup.wait(stop, 5)
    assert wakeup.take_notified() is True
    stop.set()
    await asyncio.wait_for(listener, 5)
