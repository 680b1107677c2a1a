"""``reconcile``: re-read from Stripe, repair what webhooks missed, publish the changes."""

from __future__ import annotations

import dataclasses
from typing import Any

import asyncpg
import pytest
from billing_domain.errors import GatewayUnavailable
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.settings import BillingSettings
from subscriptions.adapters.postgres import PgAccountReader, PgSubscriptionsUnitOfWork
from subscriptions.bootstrap import run_reconcile
from subscriptions.reconcile import reconcile
from subscriptions.testing import Builders, World


async def run(world: World, tenant_id: str | None = None, **kwargs: Any) -> Any:
    return await reconcile(
        tenant_id,
        reader=world.reader,
        uow_factory=world.uow,
        gateway=world.gateway,
        clock=world.clock,
        **kwargs,
    )


@pytest.mark.unit
async def test_missed_webhooks_are_repaired_and_published(
    world: World, build: type[Builders]
) -> None:
    ok, canceled, upgraded = build.tenant(), build.tenant(), build.tenant()
    for tenant in (ok, canceled, upgraded):
        world.seed(build.paid_account(tenant, plan=PlanType.SOLO))
    # Stripe moved on while the webhooks were lost.
    for tenant, change in (
        (canceled, {"status": SubscriptionStatus.CANCELED}),
        (upgraded, {"plan": PlanType.TEAM}),
    ):
        sub = world.store.accounts[tenant].snapshot()
        assert sub is not None
        world.gateway.put(dataclasses.replace(sub, **change))

    report = await run(world)

    assert report.checked == 3
    assert sorted(report.repaired) == sorted([canceled, upgraded])
    assert report.unchanged == 1
    assert world.store.accounts[canceled].plan is PlanType.FREE
    assert world.store.accounts[upgraded].plan is PlanType.TEAM
    assert sorted(world.store.published_types()) == [
        "entitlements.changed",
        "entitlements.changed",
        "subscription.canceled",
        "subscription.plan_changed",
    ]
    assert {e.causation_id for e in world.store.outbox} == {report.run_id}
    assert world.gateway.calls == ["current_subscription"] * 3

    again = await run(world)
    assert again.repaired == []


@pytest.mark.unit
async def test_one_tenant_never_seen_is_found_through_its_customer(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.gateway.customers[tenant] = "cus_lost"
    world.gateway.put(build.snapshot(subscription_id="sub_lost", customer_id="cus_lost"))

    report = await run(world, tenant)

    assert report.repaired == [tenant]
    account = world.store.accounts[tenant]
    assert (account.plan, account.status) == (PlanType.TEAM, SubscriptionStatus.ACTIVE)
    assert world.store.published_types() == ["subscription.activated", "entitlements.changed"]


@pytest.mark.unit
async def test_stripe_failing_for_one_tenant_does_not_stop_the_run(
    world: World, build: type[Builders]
) -> None:
    world.seed(build.paid_account(build.tenant()))
    world.gateway.fail_with = GatewayUnavailable("down", code="stripe_unavailable")
    report = await run(world)
    assert list(report.failed.values()) == ["stripe_unavailable"]
    assert world.store.commits == 0


@pytest.mark.integration
async def test_reconcile_against_postgres(
    settings: BillingSettings, pool: asyncpg.Pool, world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    account = build.paid_account(tenant, plan=PlanType.ENTERPRISE)
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        await uow.accounts.save(account)
        await uow.commit()
    snapshot = account.snapshot()
    assert snapshot is not None
    world.gateway.put(dataclasses.replace(snapshot, cancel_at_period_end=True))

    report = await run_reconcile(settings, tenant, gateway=world.gateway, clock=world.clock)

    assert report.repaired == [tenant]
    repaired = await PgAccountReader(pool).find(tenant)
    assert repaired is not None
    assert repaired.cancel_at_period_end is True
    outbox = await pool.fetch(
        "SELECT routing_key, body FROM subscriptions.outbox WHERE tenant_id = $1", tenant
    )
    assert [row["routing_key"] for row in outbox] == ["billing.subscription.cancel_scheduled"]
    assert outbox[0]["body"]["causation_id"] == report.run_id
