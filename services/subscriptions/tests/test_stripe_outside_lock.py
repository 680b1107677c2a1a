"""No lock is held across a Stripe call: a command decides, calls Stripe outside any
transaction, then applies Stripe's answer in a short one behind the ordering guard."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import pytest
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription_snapshot import SubscriptionSnapshot
from subscriptions import use_cases
from subscriptions.adapters.postgres import PgSubscriptionsUnitOfWork
from subscriptions.commands import CancelSubscription, ProjectBillingEvent
from subscriptions.projection import project_billing_event
from subscriptions.testing import Builders, FakePaymentGateway, World


class WatchedGateway(FakePaymentGateway):
    """Runs ``during()`` while Stripe is cancelling, as a webhook consumer could."""

    def __init__(self, during: Callable[[], Awaitable[None]]) -> None:
        super().__init__()
        self.during = during

    async def schedule_cancel(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        await self.during()
        return await super().schedule_cancel(subscription_id, idempotency_key=idempotency_key)


def cancel(build: type[Builders], tenant: str) -> CancelSubscription:
    return CancelSubscription(
        principal=build.principal(tenant), tenant_id=tenant, request_key="k1", causation_id="r1"
    )


@pytest.mark.integration
async def test_the_tenants_row_is_free_while_stripe_is_called(
    pool: asyncpg.Pool, world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    account = build.paid_account(tenant)
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        await uow.accounts.save(account)
        await uow.commit()
    touched: list[str] = []

    async def lock_the_row_elsewhere() -> None:
        async with PgSubscriptionsUnitOfWork(pool) as other:
            await other.connection.execute("SET LOCAL lock_timeout = '3s'")
            await other.accounts.get_for_update(tenant)  # fails if the command holds the row
            touched.append(tenant)

    gateway = WatchedGateway(lock_the_row_elsewhere)
    snapshot = account.snapshot()
    assert snapshot is not None
    gateway.put(snapshot)

    done = await asyncio.wait_for(
        use_cases.cancel_subscription(
            cancel(build, tenant), PgSubscriptionsUnitOfWork(pool), gateway, world.clock
        ),
        timeout=10,
    )

    assert touched == [tenant]
    assert done.account.cancel_at_period_end is True
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        assert (await uow.accounts.get_for_update(tenant)).cancel_at_period_end is True


class EndedMeanwhile(FakePaymentGateway):
    """Stripe cancels as asked, then someone ends the subscription and its webhook is
    projected before our answer is applied."""

    def __init__(self, ended: SubscriptionSnapshot, during: Callable[[], Awaitable[None]]):
        super().__init__()
        self.ended = ended
        self.during = during

    async def schedule_cancel(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        answer = await super().schedule_cancel(subscription_id, idempotency_key=idempotency_key)
        self.put(self.ended)
        await self.during()
        return answer


@pytest.mark.unit
async def test_a_stripe_event_applied_during_the_call_is_not_undone_by_the_answer(
    world: World, build: type[Builders]
) -> None:
    """Someone ends the subscription at Stripe while our cancel is in flight: its webhook
    is projected first; our answer (older, though no clock can tell) must not revive it:
    Stripe is read again and that read is applied."""
    tenant = build.tenant()
    account = build.paid_account(tenant)
    snapshot = account.snapshot()
    assert snapshot is not None
    ended_snapshot = dataclasses.replace(snapshot, status=SubscriptionStatus.CANCELED)
    ended = build.subscription_updated(
        tenant, ended_snapshot, created=world.clock.now() + timedelta(seconds=5)
    )

    async def webhook_arrives() -> None:
        cmd = ProjectBillingEvent(message_id="m-1", routing_key=ended.routing_key, event=ended)
        await project_billing_event(cmd, world.uow(), world.gateway, world.clock)

    world.gateway = EndedMeanwhile(ended_snapshot, webhook_arrives)
    world.seed(account)

    result = await use_cases.cancel_subscription(
        cancel(build, tenant), world.uow(), world.gateway, world.clock
    )

    assert result.account.status is SubscriptionStatus.CANCELED
    stored = world.store.accounts[tenant]
    assert stored.status is SubscriptionStatus.CANCELED
    assert stored.cancel_at_period_end is False
    assert "subscription.cancel_scheduled" not in world.store.published_types()
    assert world.gateway.calls == ["schedule_cancel", "read_subscription"]


@pytest.mark.unit
async def test_events_applied_before_the_decision_do_not_void_the_answer(
    world: World, build: type[Builders]
) -> None:
    """Stripe's clock (a test clock's) may run ahead of ours: an event created "later"
    than our now, but applied before the command decided, does not make the answer
    stale. The answer is applied, without a second read (the full-suite regression:
    a cancel answered 200 with cancel_at_period_end false)."""
    tenant = build.tenant()
    account = build.paid_account(tenant)
    snapshot = account.snapshot()
    assert snapshot is not None
    ahead = build.subscription_updated(
        tenant, snapshot, created=world.clock.now() + timedelta(days=40)
    )
    world.seed(account)
    world.gateway.put(snapshot)
    cmd = ProjectBillingEvent(message_id="m-2", routing_key=ahead.routing_key, event=ahead)
    await project_billing_event(cmd, world.uow(), world.gateway, world.clock)

    result = await use_cases.cancel_subscription(
        cancel(build, tenant), world.uow(), world.gateway, world.clock
    )

    assert result.account.cancel_at_period_end is True
    assert world.store.accounts[tenant].cancel_at_period_end is True
    assert "subscription.cancel_scheduled" in world.store.published_types()
    assert world.gateway.calls == ["schedule_cancel"]
