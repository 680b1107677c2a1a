"""Processing on real Postgres: leases, Stripe reads outside any transaction, a lone
event's failure (no savepoint) and a batch's, a lost lease that writes nothing."""

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from billing_domain.errors import GatewayUnavailable
from billing_domain.webhook_log import WebhookEventStatus
from billing_platform.db import create_pool
from billing_platform.testing.clock import FakeClock
from webhooks.adapters.postgres import PgEventClaims, PgStripeEventStore, PgWebhooksUnitOfWork
from webhooks.testing import Builders, FakeStripeReader, FakeWorld
from webhooks.use_cases.processing import ProcessingDeps, process_due

pytestmark = pytest.mark.integration

LOG = "webhooks.stripe_webhook_events_log"


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


def _deps(world: FakeWorld, pool: asyncpg.Pool, **changes: Any) -> ProcessingDeps:
    """The fake world's Stripe, clock and plans, on real Postgres."""
    deps: ProcessingDeps = world.deps()
    return dataclasses.replace(
        deps,
        uow_factory=lambda: PgWebhooksUnitOfWork(pool),
        claims=PgEventClaims(pool),
        **changes,
    )


async def _ingest(
    pool: asyncpg.Pool, build: type[Builders], event: dict[str, Any], clock: FakeClock
) -> None:
    assert await PgStripeEventStore(pool).add(build.new_stripe_event(event), clock.now())


def _needs_stripe(build: type[Builders], tenant: str) -> dict[str, Any]:
    """A subscription event whose schedule must be read from Stripe."""
    sub = build.subscription(tenant=tenant, customer=f"cus_{tenant}", schedule=f"sched_{tenant}")
    return dict(build.event("customer.subscription.updated", sub))


def _unknown_price(build: type[Builders], tenant: str) -> dict[str, Any]:
    """Permanent: translation refuses a price we do not sell (inside the transaction)."""
    sub = build.subscription(tenant=tenant, customer=f"cus_{tenant}")
    sub["items"]["data"][0]["price"].update(id="price_unknown", lookup_key=None, metadata={})
    return dict(build.event("customer.subscription.updated", sub))


async def _row(pool: asyncpg.Pool, event_id: str) -> dict[str, Any]:
    row = await pool.fetchrow(
        "SELECT status, retry_count, error_message, last_error_class, tenant_id, claimed_by, "
        f"claim_token, lease_until FROM {LOG} WHERE event_id = $1",
        event_id,
    )
    assert row is not None
    return dict(row)


class _DuringStripeRead:
    """The fake Stripe, running ``hook`` while the worker waits for a read."""

    def __init__(self, stripe: FakeStripeReader, hook: Callable[[], Awaitable[None]]) -> None:
        self._stripe, self._hook = stripe, hook

    async def customer(self, customer_id: str) -> Mapping[str, Any]:
        return await self._stripe.customer(customer_id)

    async def subscription(self, subscription_id: str) -> Mapping[str, Any]:
        return await self._stripe.subscription(subscription_id)

    async def subscription_schedule(self, schedule_id: str) -> Mapping[str, Any]:
        await self._hook()
        return await self._stripe.subscription_schedule(schedule_id)


async def test_a_lone_event_that_fails_is_rolled_back_and_its_attempt_recorded(
    pool: asyncpg.Pool, build: type[Builders], world: FakeWorld, fake_clock: FakeClock
) -> None:
    event = _unknown_price(build, "tenant_lone")
    await _ingest(pool, build, event, fake_clock)
    done = await process_due(_deps(world, pool), limit=10)
    assert [(d.event_id, d.status, d.tenant_id) for d in done] == [
        (event["id"], WebhookEventStatus.RETRYING, "tenant_lone")
    ]
    row = await _row(pool, event["id"])
    assert row["error_message"].startswith("RuleViolated")
    assert (row["status"], row["retry_count"], row["last_error_class"]) == (
        "retrying",
        1,
        "permanent",
    )
    assert (row["claimed_by"], row["claim_token"], row["lease_until"]) == (None, None, None)
    # The handling was undone with the transaction: no billing event, no customer link.
    assert await pool.fetchval("SELECT count(*) FROM webhooks.outbox") == 0
    assert await pool.fetchval("SELECT count(*) FROM webhooks.customer_tenants") == 0


async def test_stripe_is_read_with_no_transaction_open_and_its_outage_is_transient(
    pool: asyncpg.Pool,
    build: type[Builders],
    world: FakeWorld,
    fake_stripe: FakeStripeReader,
    fake_clock: FakeClock,
) -> None:
    """While the worker waits for Stripe, its row is leased but not locked: another
    connection locks it with NOWAIT (a transaction holding it would make that fail)."""
    event = _needs_stripe(build, "tenant_read")
    await _ingest(pool, build, event, fake_clock)
    fake_stripe.fail_with = GatewayUnavailable("Stripe is unavailable (500)")
    seen: list[dict[str, Any]] = []

    async def lock_it_meanwhile() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL lock_timeout = '100ms'")
            row = await conn.fetchrow(
                f"SELECT claimed_by, lease_until FROM {LOG} WHERE event_id = $1 FOR UPDATE NOWAIT",
                event["id"],
            )
            assert row is not None
            seen.append(dict(row))

    deps = _deps(world, pool, stripe=_DuringStripeRead(fake_stripe, lock_it_meanwhile))
    done = await process_due(deps, limit=10)
    assert len(seen) == 1
    assert seen[0]["claimed_by"] == deps.worker_id
    assert seen[0]["lease_until"] == fake_clock.now() + deps.lease
    assert [d.status for d in done] == [WebhookEventStatus.RETRYING]
    row = await _row(pool, event["id"])
    assert (row["last_error_class"], row["claimed_by"]) == ("transient", None)


async def test_a_lease_lost_during_the_stripe_read_writes_nothing(
    pool: asyncpg.Pool,
    build: type[Builders],
    world: FakeWorld,
    fake_stripe: FakeStripeReader,
    fake_clock: FakeClock,
) -> None:
    """A worker stalls past its lease; another takes the row over (a new claim token).
    The first one's finishing write finds another token: nothing of it is committed."""
    events = [_needs_stripe(build, f"tenant_slow_{n}") for n in range(2)]
    for event in events:
        await _ingest(pool, build, event, fake_clock)
        sched = event["data"]["object"]["schedule"]
        fake_stripe.objects[sched] = {"id": sched, "status": "released"}
    taken: list[str] = []

    async def another_worker_takes_over() -> None:
        if taken:
            return
        fake_clock.advance(deps.lease.total_seconds() + 1)
        later = PgEventClaims(pool)
        for stolen in await later.claim(
            fake_clock.now(), 10, lease=timedelta(seconds=60), worker="other"
        ):
            taken.append(stolen.record.event_id)

    deps = _deps(world, pool, stripe=_DuringStripeRead(fake_stripe, another_worker_takes_over))
    for limit in (1, 2):  # a lone event (no savepoint) and a batch (savepoints)
        await pool.execute(
            f"UPDATE {LOG} SET claimed_by = NULL, claim_token = NULL, next_attempt_at = $1",
            fake_clock.now(),
        )
        taken.clear()
        done = await process_due(deps, limit=limit)
        assert done == []
        assert sorted(taken) == sorted(event["id"] for event in events)  # ours among them
        assert await pool.fetchval("SELECT count(*) FROM webhooks.outbox") == 0
        for event_id in taken:
            row = await _row(pool, event_id)
            assert (row["status"], row["claimed_by"]) == ("pending", "other")


async def test_a_dead_workers_lease_runs_out_and_another_takes_the_row(
    pool: asyncpg.Pool, build: type[Builders], world: FakeWorld, fake_clock: FakeClock
) -> None:
    event = dict(build.event("customer.subscription.updated", build.subscription(tenant="t_x")))
    await _ingest(pool, build, event, fake_clock)
    claims = PgEventClaims(pool)
    lease = timedelta(seconds=60)
    dead = await claims.claim(fake_clock.now(), 10, lease=lease, worker="dead")
    assert [c.record.event_id for c in dead] == [event["id"]]
    fake_clock.advance(59)
    assert await claims.claim(fake_clock.now(), 10, lease=lease, worker="alive") == []
    assert await process_due(_deps(world, pool), limit=10) == []
    fake_clock.advance(2)
    done = await process_due(_deps(world, pool), limit=10)
    assert [(d.event_id, d.status) for d in done] == [(event["id"], WebhookEventStatus.PROCESSED)]
    assert await pool.fetchval("SELECT count(*) FROM webhooks.outbox") == 1
    late = dead[0]  # the dead worker's write, should it ever come, changes nothing
    async with PgWebhooksUnitOfWork(pool) as uow:
        late.record.mark_failed_attempt("late", fake_clock.now())
        assert not await uow.events.save(late)
    assert (await _row(pool, event["id"]))["status"] == "processed"


async def test_in_a_batch_a_failing_event_undoes_only_itself(
    pool: asyncpg.Pool, build: type[Builders], world: FakeWorld, fake_clock: FakeClock
) -> None:
    fine = dict(build.event("customer.subscription.updated", build.subscription(tenant="t_ok")))
    failing = _unknown_price(build, "t_fail")
    await _ingest(pool, build, fine, fake_clock)
    await _ingest(pool, build, failing, fake_clock)
    done = await process_due(_deps(world, pool), limit=10)
    assert {d.event_id: d.status for d in done} == {
        fine["id"]: WebhookEventStatus.PROCESSED,
        failing["id"]: WebhookEventStatus.RETRYING,
    }
    assert await pool.fetchval("SELECT array_agg(tenant_id) FROM webhooks.outbox") == ["t_ok"]
