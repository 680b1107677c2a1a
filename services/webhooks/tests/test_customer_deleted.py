"""``customer.deleted`` retires the customer -> tenant entry: it never resolves again,
and no later event (however late Stripe delivers it) maps the customer again."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from billing_domain import events as ev
from billing_domain.webhook_log import WebhookEventStatus
from webhooks.adapters.postgres import PgCustomerDirectory
from webhooks.testing import Builders, FakeWorld
from webhooks.use_cases.processing import process_next_due


async def _process(world: FakeWorld, event: dict[str, Any]) -> Any:
    await world.ingest(event)
    done = await process_next_due(world.deps())
    assert done is not None
    return done


@pytest.mark.unit
async def test_a_deleted_customer_no_longer_resolves_and_is_never_linked_again(
    world: FakeWorld, build: type[Builders]
) -> None:
    world.customers["cus_a"] = "tenant_a"

    deleted = await _process(world, build.event("customer.deleted", build.customer("cus_a")))
    assert (deleted.status, deleted.tenant_id, deleted.published) == (
        WebhookEventStatus.PROCESSED,
        "tenant_a",
        0,
    )
    assert (world.log.rows[deleted.event_id].record.note or "").startswith("customer deleted")
    assert world.stripe.reads == []  # nothing to read: the customer is gone

    late_update = await _process(world, build.event("customer.updated", build.customer("cus_a")))
    assert late_update.status is WebhookEventStatus.PROCESSED
    invoice = build.invoice(customer="cus_a")  # names no tenant: only the map could
    assert (await _process(world, build.event("invoice.paid", invoice))).status is (
        WebhookEventStatus.PARKED
    )
    assert world.customers["cus_a"] == ""  # retired, not re-linked by the late update


@pytest.mark.unit
async def test_the_cancellation_stripe_sends_with_the_deletion_still_reaches_the_tenant(
    world: FakeWorld, build: type[Builders]
) -> None:
    world.customers["cus_a"] = "tenant_a"
    await _process(world, build.event("customer.deleted", build.customer("cus_a")))
    canceled = build.subscription(status="canceled")  # names its tenant in its metadata
    done = await _process(world, build.event("customer.subscription.deleted", canceled))
    assert (done.status, done.tenant_id) == (WebhookEventStatus.PROCESSED, "tenant_a")
    [published] = world.published
    assert isinstance(published, ev.SubscriptionUpdated)
    assert published.status.value == "canceled"
    assert world.customers["cus_a"] == ""


@pytest.mark.unit
async def test_deleting_a_customer_nobody_knew_is_processed_not_parked(
    world: FakeWorld, build: type[Builders]
) -> None:
    event = build.event("customer.deleted", build.customer("cus_unknown", tenant=None))
    done = await _process(world, event)
    assert (done.status, done.tenant_id) == (WebhookEventStatus.PROCESSED, None)
    assert world.customers["cus_unknown"] == ""


@pytest.mark.unit
async def test_a_deletion_without_a_customer_id_fails_without_touching_the_map(
    world: FakeWorld, build: type[Builders]
) -> None:
    world.customers["cus_a"] = "tenant_a"
    done = await _process(world, build.event("customer.deleted", {"object": "customer"}))
    assert done.status is WebhookEventStatus.RETRYING
    assert done.error is not None
    assert "without a customer id" in done.error
    assert world.customers == {"cus_a": "tenant_a"}


@pytest.fixture
async def connection(webhooks_database: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(webhooks_database)
    tx = conn.transaction()
    await tx.start()
    try:
        yield conn
    finally:
        await tx.rollback()  # nothing of this test stays behind
        await conn.close()


@pytest.mark.integration
async def test_postgres_retires_a_customer_for_good(connection: asyncpg.Connection) -> None:
    customers = PgCustomerDirectory(connection)
    assert await customers.link("cus_pg_1", "tenant_1") == "tenant_1"

    await customers.retire("cus_pg_1", "tenant_1")
    assert await customers.tenant_of("cus_pg_1") is None
    assert await customers.link("cus_pg_1", "tenant_1") == "tenant_1"  # no claim, no link
    assert await customers.tenant_of("cus_pg_1") is None

    await customers.retire("cus_pg_2", None)  # deleted before we ever mapped it
    assert await customers.link("cus_pg_2", "tenant_2") == "tenant_2"
    assert await customers.tenant_of("cus_pg_2") is None
    await customers.retire("cus_pg_2", None)  # a redelivery: still retired
    assert (
        await connection.fetchval(
            "SELECT count(*) FROM webhooks.customer_tenants WHERE deleted_at IS NOT NULL"
            " AND stripe_customer_id LIKE 'cus_pg_%'"
        )
        == 2
    )
