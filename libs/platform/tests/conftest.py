import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import asyncpg
import pytest
from billing_domain.envelope import IntegrationEvent
from billing_platform.db import create_pool
from billing_platform.messaging.outbox_schema import create_outbox_and_inbox_sql


@dataclass(frozen=True, kw_only=True)
class Pinged(IntegrationEvent):
    """A throwaway event type for exercising the messaging machinery."""

    type: ClassVar[str] = "test.pinged"
    n: int


@pytest.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    """A schema of its own with the outbox and inbox tables every service migration creates."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE SCHEMA {name}")
        for statement in create_outbox_and_inbox_sql(name):
            await conn.execute(statement)
        # What each service's later migration adds (its *_outbox_poison_rows_retention).
        await conn.execute(
            f"ALTER TABLE {name}.outbox ADD COLUMN rejections integer NOT NULL DEFAULT 0, "
            "ADD COLUMN next_attempt_at timestamptz, ADD COLUMN parked_at timestamptz"
        )
        yield name
        await conn.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, max_size=6)
    yield pool
    await pool.close()


@pytest.fixture
def make_event() -> Callable[[int], IntegrationEvent]:
    def make(n: int) -> IntegrationEvent:
        return Pinged(
            id=uuid.uuid4(),
            occurred_at=datetime.now(UTC),
            tenant_id=f"tenant_{n % 3}",
            source="test",
            causation_id=f"evt_{n}",
            n=n,
        )

    return make
