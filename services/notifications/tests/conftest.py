"""Fixtures of the notifications tests: the fakes' world (unit) and, for the integration
tests, the schema migrated once on the run's database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
from billing_cli.mail_catcher import MailCatcher, running_mail_catcher
from billing_platform.db import create_pool
from billing_platform.migrations import upgrade_async
from notifications.schema import MIGRATIONS
from notifications.testing import Events, World


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def events(world: World) -> Events:
    return Events(world.clock)


@pytest.fixture(scope="session")
async def migrated_url(database_url: str) -> str:
    await upgrade_async([MIGRATIONS], database_url)
    return database_url


@pytest.fixture
async def catcher() -> AsyncIterator[MailCatcher]:
    async with running_mail_catcher() as running:
        yield running


@pytest.fixture
async def pool(migrated_url: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(migrated_url, max_size=4)
    try:
        yield created
    finally:
        await created.close()


@pytest.fixture
def new_tenant() -> Callable[[], str]:
    return lambda: f"tenant_{uuid.uuid4().hex[:12]}"
