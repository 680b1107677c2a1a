"""Processing on real Postgres: a lone event's failure (no savepoint) and a batch's."""

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from billing_domain.errors import GatewayUnavailable
from billing_domain.webhook_log import WebhookEventStatus
from billing_platform.db import create_pool
from webhooks.adapters.postgres import PgStripeEventStore, PgWebhooksUnitOfWork
from webhooks.use_cases.processing import ProcessingDeps, process_due

pytestmark = pytest.mark.integration


@pytest.fixture
async def pool(webhooks_database: str) -> AsyncIterator[asyncpg.Pool]:
    """Tests share one database: start empty, and leave no unsent outbox rows behind for
    the next test's relay to publish."""
    pool = await create_pool(webhooks_database, max_size=4)
    await pool.execute(_TRUNCATE)
    yield pool
    await pool.execute(_TRUNCATE)
    await pool.close()


_TRUNCATE = (
    "TRUNCATE webhooks.stripe_webhook_events_log, webhooks.customer_tenants, "
    "webhooks.outbox, webhooks.inbox"
)


def _deps(world: Any, pool: asyncpg.Pool, uow_factory: Any = None) -> ProcessingDeps:
    """The fake world's Stripe, clock and plans, on real Postgres."""
    deps: ProcessingDeps = world.deps()
    return dataclasses.replace(
        deps, uow_factory=uow_factory or (lambda: PgWebhooksUnitOfWork(pool))
    )


async def _ingest(pool: asyncpg.Pool, build: Any, event: dict[str, Any], clock: Any) -> None:
    assert await PgStripeEventStore(pool).add(build.new_stripe_event(event), clock.now())


def _needs_stripe(build: Any, tenant: str) -> dict[str, Any]:
    """A subscription event whose schedule must be read from Stripe."""
    sub = build.subscription(tenant=tenant, customer=f"cus_{tenant}", schedule=f"sched_{tenant}")
    return dict(build.event("customer.subscription.updated", sub))


async def test_a_lone_event_that_fails_is_rolled_back_and_its_attempt_recorded(
    pool: asyncpg.Pool, build: Any, world: Any, fake_stripe: Any, fake_clock: Any
) -> None:
    event = _needs_stripe(build, "tenant_lone")
    await _ingest(pool, build, event, fake_clock)
    fake_stripe.fail_with = GatewayUnavailable("stripe is down")
    done = await process_due(_deps(world, pool), limit=10)
    assert [(d.event_id, d.status, d.tenant_id) for d in done] == [
        (event["id"], WebhookEventStatus.RETRYING, "tenant_lone")
    ]
    row = await pool.fetchrow(
        "SELECT status, retry_count, error_message, tenant_id "
        "FROM webhooks.stripe_webhook_events_log WHERE event_id = $1",
        event["id"],
    )
    assert dict(row) == {
        "status": "retrying",
        "retry_count": 1,
        "error_message": "GatewayUnavailable: stripe is down",
        "tenant_id": "tenant_lone",
    }
    # The handling was undone with the transaction: no billing event, no customer link.
    assert await pool.fetchval("SELECT count(*) FROM webhooks.outbox") == 0
    assert await pool.fetchval("SELECT count(*) FROM webhooks.customer_tenants") == 0


async def test_a_lone_failure_handled_by_another_worker_meanwhile_is_not_recorded(
    pool: asyncpg.Pool, build: Any, world: Any, fake_stripe: Any, fake_clock: Any
) -> None:
    """Between the rollback and the second transaction the row is free: a worker that
    took and processed it wins, and this attempt's failure is not written over it."""
    event = _needs_stripe(build, "tenant_race")
    await _ingest(pool, build, event, fake_clock)
    fake_stripe.fail_with = GatewayUnavailable("stripe is down")
    units: list[PgWebhooksUnitOfWork] = []

    class OtherWorkerFirst(PgWebhooksUnitOfWork):
        async def __aenter__(self) -> "OtherWorkerFirst":
            await pool.execute(
                "UPDATE webhooks.stripe_webhook_events_log SET status = 'processed', "
                "processed_at = now() WHERE event_id = $1",
                event["id"],
            )
            return await super().__aenter__()

    def factory() -> PgWebhooksUnitOfWork:
        # The first unit claims and fails; before the second, another worker wins.
        units.append(PgWebhooksUnitOfWork(pool) if not units else OtherWorkerFirst(pool))
        return units[-1]

    assert await process_due(_deps(world, pool, factory), limit=10) == []
    row = await pool.fetchrow(
        "SELECT status, retry_count, error_message FROM webhooks.stripe_webhook_events_log "
        "WHERE event_id = $1",
        event["id"],
    )
    assert dict(row) == {"status": "processed", "retry_count": 0, "error_message": None}
    assert len(units) == 2


async def test_in_a_batch_a_failing_event_undoes_only_itself(
    pool: asyncpg.Pool, build: Any, world: Any, fake_stripe: Any, fake_clock: Any
) -> None:
    fine = dict(build.event("customer.subscription.updated", build.subscription(tenant="t_ok")))
    failing = _needs_stripe(build, "t_fail")
    await _ingest(pool, build, fine, fake_clock)
    await _ingest(pool, build, failing, fake_clock)
    fake_stripe.fail_with = GatewayUnavailable("stripe is down")
    done = await process_due(_deps(world, pool), limit=10)
    assert {d.event_id: d.status for d in done} == {
        fine["id"]: WebhookEventStatus.PROCESSED,
        failing["id"]: WebhookEventStatus.RETRYING,
    }
    assert await pool.fetchval("SELECT array_agg(tenant_id) FROM webhooks.outbox") == ["t_ok"]
