"""``customer.subscription.paused`` / ``resumed`` arrive as ``subscription.updated``
snapshots (webhooks translate): the tenant reads ``paused`` / ``Paused``, without paid
access, and gets it back (``subscription.activated``) when Stripe resumes it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from billing_domain.status import SubscriptionStatus
from subscriptions.commands import ProjectBillingEvent
from subscriptions.projection import Projected, project_billing_event
from subscriptions.testing import Builders, World
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
