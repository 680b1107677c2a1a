"""``invoice.voided`` / ``invoice.marked_uncollectible`` end the payment-failure banner
(of an ``unpaid`` subscription too), in whatever order the events arrive."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from billing_domain.envelope import IntegrationEvent
from billing_domain.status import SubscriptionStatus
from subscriptions.commands import ProjectBillingEvent
from subscriptions.projection import Projected, project_billing_event
from subscriptions.testing import Builders, World

pytestmark = pytest.mark.unit

T = datetime.fromisoformat("2026-12-01T12:00:00+00:00")


async def project(world: World, event: IntegrationEvent) -> Projected:
    cmd = ProjectBillingEvent(message_id=str(event.id), routing_key=event.routing_key, event=event)
    return await project_billing_event(cmd, world.uow(), world.gateway, world.clock)


async def unpaid(world: World, build: type[Builders]) -> str:
    tenant: str = build.tenant()
    snapshot = build.snapshot(status=SubscriptionStatus.UNPAID)
    await project(world, build.subscription_updated(tenant, snapshot, created=T))
    return tenant


async def unpaid_with_a_failure(world: World, build: type[Builders]) -> str:
    tenant = await unpaid(world, build)
    failed = build.payment_failed(
        tenant, invoice_id="in_1", subscription_id="sub_1", created=T + timedelta(hours=1)
    )
    await project(world, failed)
    assert world.store.accounts[tenant].payment_failure is not None
    return tenant


def closed_later(build: type[Builders], tenant: str, *, uncollectible: bool) -> IntegrationEvent:
    """Invoice ``in_1`` of ``sub_1`` voided or written off, 20 days on."""
    event: IntegrationEvent = build.invoice_closed(
        tenant,
        uncollectible=uncollectible,
        invoice_id="in_1",
        subscription_id="sub_1",
        created=T + timedelta(days=20),
    )
    return event


@pytest.mark.parametrize("uncollectible", [False, True])
async def test_the_banner_of_an_unpaid_subscription_clears(
    world: World, build: type[Builders], uncollectible: bool
) -> None:
    tenant = await unpaid_with_a_failure(world, build)
    event = closed_later(build, tenant, uncollectible=uncollectible)
    assert event.routing_key.endswith("marked_uncollectible" if uncollectible else "voided")
    assert await project(world, event) is Projected.APPLIED
    account = world.store.accounts[tenant]
    assert account.payment_failure is None
    assert account.status is SubscriptionStatus.UNPAID
    assert not any(t.startswith("invoice.") for t in world.store.published_types())


async def test_a_failure_arriving_after_the_void_does_not_bring_the_banner_back(
    world: World, build: type[Builders]
) -> None:
    tenant = await unpaid(world, build)
    await project(world, closed_later(build, tenant, uncollectible=False))
    late = build.payment_failed(
        tenant, invoice_id="in_1", subscription_id="sub_1", created=T + timedelta(hours=1)
    )
    assert await project(world, late) is Projected.STALE
    assert world.store.accounts[tenant].payment_failure is None


async def test_closing_another_invoice_or_another_subscriptions_keeps_the_banner(
    world: World, build: type[Builders]
) -> None:
    tenant = await unpaid_with_a_failure(world, build)
    other_invoice = build.invoice_closed(
        tenant, uncollectible=False, invoice_id="in_2", subscription_id="sub_1"
    )
    assert await project(world, other_invoice) is Projected.APPLIED
    other_sub = build.invoice_closed(
        tenant, uncollectible=True, invoice_id="in_1", subscription_id="sub_old"
    )
    assert await project(world, other_sub) is Projected.IGNORED
    assert world.store.accounts[tenant].payment_failure is not None
