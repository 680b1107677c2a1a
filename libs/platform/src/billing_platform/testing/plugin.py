"""pytest plugin (registered through the ``pytest11`` entry point).

Session fixtures:
- ``postgres_server_url``: a reachable server (see ``backends``);
- ``database_url``: a fresh database created for this run, dropped at the end;
  services apply their alembic histories to it with ``upgrade_async``;
- ``amqp_url``: a reachable broker.
Per test:
- ``exchange_name``: a topic exchange name unique to the test, so runs and
  tests never see each other's messages; its exchanges and queues are deleted
  afterwards;
- ``rabbit_bus``: a connected ``RabbitMQBus`` on that exchange.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg
import pytest

from billing_platform.messaging.message import consumer_queue
from billing_platform.messaging.rabbitmq import (
    RabbitMQBus,
    dead_letter_exchange,
    dead_letter_queue,
    declared_delay_queues,
    declared_queues,
)
from billing_platform.messaging.retry_lane import RETRY_DELAYS_S, delay_queue
from billing_platform.testing import backends, skip_summary


@pytest.fixture(scope="session")
def _backend_stack() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


@pytest.fixture(scope="session")
async def postgres_server_url(_backend_stack: ExitStack) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        reason = await backends.postgres_reachable(url)
        if reason is not None:
            backends.unavailable("Postgres at DATABASE_URL", reason, pytest.fail, pytest.skip)
        return url
    # Like AMQP_URL: the machine's own server when it answers (CI's, a developer's), else
    # one of the test run's own (testcontainers or pgserver).
    if await backends.postgres_reachable(backends.DEFAULT_DATABASE_URL) is None:
        return backends.DEFAULT_DATABASE_URL
    try:
        return backends.start_postgres(_backend_stack)
    except Exception as exc:
        backends.unavailable("Postgres", repr(exc), pytest.fail, pytest.skip)
        raise


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


@asynccontextmanager
async def throwaway_database(server_url: str, prefix: str = "billing_test") -> AsyncIterator[str]:
    """A new database on ``server_url`` (its URL), dropped on leaving."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(server_url, name)
    finally:
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(scope="session")
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A database of its own for this test run (dropped afterwards)."""
    async with throwaway_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="session")
async def amqp_url(_backend_stack: ExitStack) -> str:
    url = os.environ.get("AMQP_URL") or backends.DEFAULT_AMQP_URL
    reason = await backends.rabbitmq_reachable(url)
    if reason is None:
        return url
    started = None if os.environ.get("AMQP_URL") else backends.start_rabbitmq(_backend_stack)
    if started is None:
        backends.unavailable(f"RabbitMQ at {url}", reason, pytest.fail, pytest.skip)
    assert started is not None
    return started


SERVICE_QUEUES = (
    "checkout.billing-events",
    "subscriptions.billing-events",
    "notifications.billing-events",
    "analytics.billing-events",
)
"""Every service's consumer queue (tools/cli/tests/test_service_queues.py keeps it true).
Services run as subprocesses (``billing dev``, the e2e stacks) declare their queues on
a test's exchange where ``declared_queues`` cannot see them; without deleting these
too, every such test left quorum queues behind, and a day of runs used up the
broker's file descriptors (it stopped accepting connections)."""


@pytest.fixture
async def exchange_name(amqp_url: str) -> AsyncIterator[str]:
    name = f"billing.events.test.{uuid.uuid4().hex[:10]}"
    yield name
    queues = declared_queues(name) | {consumer_queue(q, name) for q in SERVICE_QUEUES}
    lanes = declared_delay_queues(name) | {
        delay_queue(queue, seconds) for queue in queues for seconds in RETRY_DELAYS_S
    }
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for queue in queues:  # deleting a queue that is not there is not an error
            for doomed in (queue, dead_letter_queue(queue)):
                await channel.queue_delete(doomed)
        for lane in lanes:  # their auto-delete exchanges go too
            await channel.queue_delete(lane)
        for exchange in (name, dead_letter_exchange(name)):
            await channel.exchange_delete(exchange)
    finally:
        await connection.close()


@pytest.fixture
async def rabbit_bus(amqp_url: str, exchange_name: str) -> AsyncIterator[RabbitMQBus]:
    bus = RabbitMQBus(amqp_url, exchange=exchange_name)
    await bus.connect()
    yield bus
    await bus.close()


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The closing "what this run did not test" section."""
    skip_summary.write(terminalreporter)
