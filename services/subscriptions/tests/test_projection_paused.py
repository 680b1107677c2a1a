"""``customer.subscription.paused`` / ``resumed`` arrive as ``subscription.updated``
snapshots (webhooks translate): the tenant reads ``paused`` / ``Paused``, without paid
access, and gets it back (``subscription.activated``) when Stripe resumes it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from billing_domain.events import SubscriptionUpdated
from billing_domain.status import SubscriptionStatus
from subscriptions.commands import ProjectBillingEvent
from subscriptions.consumer import project_and_resume
from subscriptions.projection import Projected, project_billing_event
from subscriptions.testing import Builders, FakeSubscriptionsUnitOfWork, World
from subscriptions.views import subscription_body

pytestmark = pytest.mark.unit

T = datetime.fromisoformat("2026-12-01T12:00:00+00:00")


async def project_status(
    world: World, build: type[Builders], tenant: str, status: str, at: int
) -> Projected:
    snapshot = build.snapshot(status=SubscriptionStatus(status))
    event = build.subscription_updated(tenant, snapshot, created=T + timedelta(hours=at))
    cmd = ProjectBillingEvent(message_id=str(event.id), routing_key=event.routing_key, event=event)
    return await project_billing_event(cmd, world.uow(), world.gateway, world.clock)


async def test_a_paused_trial_reads_paused_then_resumes_with_access(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    await project_status(world, build, tenant, "trialing", 0)
    assert await project_status(world, build, tenant, "paused", 1) is Projected.APPLIED
    account = world.store.accounts[tenant]
    body = subscription_body(account, now=T)
    assert (body["status"], body["status_label"]) == ("paused", "Paused")
    assert not account.has_paid_access

    await project_status(world, build, tenant, "active", 2)  # customer.subscription.resumed
    assert world.store.accounts[tenant].has_paid_access
    assert world.store.published_types() == [
        "subscription.activated",
        "entitlements.changed",  # free -> team (the trial)
        "entitlements.changed",  # team -> free: paused at the trial's end without a card
        "subscription.activated",
        "entitlements.changed",  # free -> team again
    ]


async def test_a_late_pause_does_not_undo_the_resume(world: World, build: type[Builders]) -> None:
    tenant = build.tenant()
    await project_status(world, build, tenant, "active", 2)
    assert await project_status(world, build, tenant, "paused", 1) is Projected.STALE
    assert world.store.accounts[tenant].status is SubscriptionStatus.ACTIVE


async def test_the_consumer_asks_about_resuming_only_when_it_may_be_due(
    world: World, build: type[Builders]
) -> None:
    """One unit of work per ordinary event (the resume check took a second, locked one for
    every event); a paused account that has a card now is resumed at Stripe."""
    opened: list[str] = []

    def counting() -> FakeSubscriptionsUnitOfWork:
        opened.append("uow")
        return world.uow()

    tenant = build.tenant()
    active = build.subscription_updated(tenant, build.snapshot(), created=T)
    await project_and_resume(_cmd(active), counting, world.gateway, world.clock)
    assert opened == ["uow"]
    assert world.gateway.calls == []

    paused = build.snapshot(status=SubscriptionStatus.PAUSED)
    event = build.subscription_updated(tenant, paused, created=T + timedelta(hours=1))
    await project_and_resume(_cmd(event), counting, world.gateway, world.clock)
    assert len(opened) == 2  # paused without a card: nothing to ask
    world.store.accounts[tenant].has_payment_method = True
    world.gateway.put(paused)  # Stripe's side: paused too
    again = build.subscription_updated(tenant, paused, created=T + timedelta(hours=2))
    await project_and_resume(_cmd(again), counting, world.gateway, world.clock)
    assert len(opened) == 5  # the projection, the resume's read, its write
    assert "read_subscription" in world.gateway.calls  # asked Stripe, then resumed it
    assert world.store.accounts[tenant].status is SubscriptionStatus.ACTIVE


def _cmd(event: SubscriptionUpdated) -> ProjectBillingEvent:
    return ProjectBillingEvent(message_id=str(event.id), routing_key=event.routing_key, event=event)
