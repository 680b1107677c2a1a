"""The webhooks fake unit of work rolls back like Postgres: a use case that fails
mid-way leaves no event-log, customer-link, audit or outbox change in the fakes."""

from __future__ import annotations

from typing import Any

import pytest
from billing_domain.webhook_log import WebhookEventStatus
from webhooks.testing import Builders, FakeWorld
from webhooks.use_cases.processing import process_due, process_next_due

pytestmark = pytest.mark.unit


def _unknown_price(build: type[Builders], tenant: str) -> dict[str, Any]:
    """An event naming ``tenant`` for a new customer (handling links it) whose price no
    plan has: translation fails after the link is written."""
    sub = build.subscription(tenant=tenant, customer=f"cus_{tenant}")
    sub["items"]["data"][0]["price"].update(id="price_unknown", lookup_key=None, metadata={})
    return build.event("customer.subscription.updated", sub)


async def test_a_lone_event_failing_after_its_link_leaves_no_link(
    world: FakeWorld, build: type[Builders]
) -> None:
    event = _unknown_price(build, "tenant_x")
    await world.ingest(event)
    done = await process_next_due(world.deps())
    assert done is not None
    assert done.status is WebhookEventStatus.RETRYING  # the attempt, recorded on its own
    assert world.customers == {}  # the link written before the failure is rolled back
    assert world.published == []
    assert world.log.rows[event["id"]].record.retry_count == 1


async def test_a_failing_event_in_a_batch_undoes_its_link_only(
    world: FakeWorld, build: type[Builders]
) -> None:
    await world.ingest(build.event("customer.subscription.updated", build.subscription()))
    await world.ingest(_unknown_price(build, "tenant_x"))
    done = await process_due(world.deps(), limit=10)
    assert [d.status for d in done] == [WebhookEventStatus.PROCESSED, WebhookEventStatus.RETRYING]
    assert world.customers == {"cus_a": "tenant_a"}  # the savepoint undid cus_tenant_x
    assert [e.tenant_id for e in world.published] == ["tenant_a"]


async def test_leaving_the_block_without_commit_discards_every_write(
    world: FakeWorld, build: type[Builders]
) -> None:
    event = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    await world.ingest(event)
    world.customers["cus_b"] = "tenant_b"
    before = world.log.rows[event["id"]].record.status

    async def write_everything_then_fail() -> None:
        async with world.uow() as uow:
            stored = await uow.events.get_for_update(event["id"])
            assert stored is not None
            stored.record.mark_ignored(world.clock.now(), reason="test")
            assert await uow.events.save(stored, tenant_id="tenant_a")
            await uow.events.record_replay(event["id"], actor="user_x", previous_status=before)
            assert await uow.customers.link("cus_new", "tenant_new") == "tenant_new"
            await uow.customers.retire("cus_b", "tenant_b")
            assert await uow.customers.tenant_of("cus_new") == "tenant_new"  # reads its own
            raise RuntimeError("the use case fails mid-way")

    with pytest.raises(RuntimeError, match="mid-way"):
        await write_everything_then_fail()
    row = world.log.rows[event["id"]]
    assert (row.record.status, row.tenant_id) == (before, None)
    assert world.log.replays == []
    assert world.customers == {"cus_b": "tenant_b"}
    assert world.published == []


async def test_a_commit_applies_every_write(world: FakeWorld, build: type[Builders]) -> None:
    async with world.uow() as uow:
        await uow.customers.link("cus_new", "tenant_new")
        await uow.customers.retire("cus_old", None)
        assert world.customers == {}  # staged: invisible until the commit
        await uow.commit()
    assert world.customers == {"cus_new": "tenant_new", "cus_old": ""}
