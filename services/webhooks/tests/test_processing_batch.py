"""Processing several due events in one transaction, each in its own savepoint (fakes)."""

from typing import Any

import pytest
from billing_domain.webhook_log import WebhookEventStatus
from webhooks.testing import Builders, FakeWorld
from webhooks.use_cases.processing import process_due

pytestmark = pytest.mark.unit


def _updated(build: type[Builders], tenant: str, *, price: str | None = None) -> dict[str, Any]:
    sub = build.subscription(tenant=tenant, customer=f"cus_{tenant}")
    if price is not None:
        sub["items"]["data"][0]["price"].update(id=price, lookup_key=None, metadata={})
    return dict(build.event("customer.subscription.updated", sub))


async def test_a_failing_event_in_a_batch_undoes_only_itself(
    world: FakeWorld, build: type[Builders]
) -> None:
    await world.ingest(_updated(build, "tenant_a"))
    await world.ingest(_updated(build, "tenant_b", price="price_unknown"))
    await world.ingest(_updated(build, "tenant_c"))
    done = await process_due(world.deps(), limit=10)
    assert [(d.tenant_id, d.status) for d in done] == [
        ("tenant_a", WebhookEventStatus.PROCESSED),
        ("tenant_b", WebhookEventStatus.RETRYING),
        ("tenant_c", WebhookEventStatus.PROCESSED),
    ]
    assert sorted(e.tenant_id for e in world.published) == ["tenant_a", "tenant_c"]
    assert await process_due(world.deps(), limit=10) == []  # the retry is not due yet


async def test_a_batch_takes_at_most_its_limit_oldest_first(
    world: FakeWorld, build: type[Builders]
) -> None:
    for tenant in ("tenant_a", "tenant_b", "tenant_c"):
        await world.ingest(_updated(build, tenant))
    first = await process_due(world.deps(), limit=2)
    second = await process_due(world.deps(), limit=2)
    assert [d.tenant_id for d in first] == ["tenant_a", "tenant_b"]
    assert [d.tenant_id for d in second] == ["tenant_c"]
    assert len(world.published) == 3
