"""API use cases with fakes: rules, Stripe calls, what is committed and published."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from billing_domain.errors import Conflict, Forbidden, GatewayUnavailable, RuleViolated
from billing_domain.event_catalogue import SubscriptionPlanChanged
from billing_domain.plans import PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription_snapshot import PendingPlanChange
from subscriptions import plan_changes, use_cases
from subscriptions.commands import (
    CancelSubscription,
    ChangePlan,
    GetSubscription,
    PreviewProration,
    ResumeSubscription,
)
from subscriptions.testing import Builders, World

pytestmark = pytest.mark.unit


def cancel_cmd(build: type[Builders], tenant: str, role: str = "owner", key: str = "k1") -> Any:
    return CancelSubscription(
        principal=build.principal(tenant, role),
        tenant_id=tenant,
        request_key=key,
        causation_id="req-1",
    )


def resume_cmd(build: type[Builders], tenant: str, role: str = "owner") -> Any:
    return ResumeSubscription(
        principal=build.principal(tenant, role),
        tenant_id=tenant,
        request_key="k2",
        causation_id="req-2",
    )


def plan_cmd(build: type[Builders], tenant: str, plan: str, **extra: Any) -> Any:
    fields: dict[str, Any] = {
        "principal": build.principal(tenant, extra.pop("role", "owner")),
        "tenant_id": tenant,
        "plan": plan,
        "proration_date": None,
        "request_key": "k3",
        "causation_id": "req-3",
    }
    return ChangePlan(**(fields | extra))


async def test_unknown_tenant_reads_as_free_and_active(world: World, build: type[Builders]) -> None:
    tenant = build.tenant()
    account = await use_cases.get_subscription(
        GetSubscription(principal=build.principal(tenant, "member"), tenant_id=tenant),
        world.reader,
    )
    assert (account.plan, account.status) == (PlanType.FREE, SubscriptionStatus.ACTIVE)
    assert world.gateway.calls == []


async def test_reading_another_tenant_is_forbidden(world: World, build: type[Builders]) -> None:
    with pytest.raises(Forbidden):
        await use_cases.get_subscription(
            GetSubscription(principal=build.principal("tenant_a"), tenant_id="tenant_b"),
            world.reader,
        )


async def test_cancel_calls_stripe_once_with_an_idempotency_key_and_commits(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    account = world.seed(build.paid_account(tenant))

    result = await use_cases.cancel_subscription(
        cancel_cmd(build, tenant), world.uow(), world.gateway, world.clock
    )

    assert result.account.cancel_at_period_end is True
    assert result.dropped_pending is None
    assert world.store.accounts[tenant].cancel_at_period_end is True
    assert world.gateway.calls == ["schedule_cancel"]
    assert world.gateway.keys == [f"subscriptions.cancel.{account.stripe_subscription_id}.k1"]
    assert world.store.published_types() == ["subscription.cancel_scheduled"]
    assert world.store.outbox[0].causation_id == "req-1"


async def test_cancel_is_refused_on_free_plan_twice_and_for_members(
    world: World, build: type[Builders]
) -> None:
    free = build.tenant()
    with pytest.raises(Conflict) as refused:
        await use_cases.cancel_subscription(
            cancel_cmd(build, free), world.uow(), world.gateway, world.clock
        )
    assert refused.value.code == "free_plan"

    tenant = build.tenant()
    world.seed(build.paid_account(tenant))
    with pytest.raises(Forbidden):
        await use_cases.cancel_subscription(
            cancel_cmd(build, tenant, role="member"), world.uow(), world.gateway, world.clock
        )
    await use_cases.cancel_subscription(
        cancel_cmd(build, tenant), world.uow(), world.gateway, world.clock
    )
    with pytest.raises(Conflict) as again:
        await use_cases.cancel_subscription(
            cancel_cmd(build, tenant, key="k9"), world.uow(), world.gateway, world.clock
        )
    assert again.value.code == "already_scheduled"
    assert world.gateway.calls == ["schedule_cancel"]


async def test_stripe_failing_commits_nothing(world: World, build: type[Builders]) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant))
    world.gateway.fail_with = GatewayUnavailable("down")
    with pytest.raises(GatewayUnavailable):
        await use_cases.cancel_subscription(
            cancel_cmd(build, tenant), world.uow(), world.gateway, world.clock
        )
    assert world.store.accounts[tenant].cancel_at_period_end is False
    assert world.store.outbox == []


async def test_resume_undoes_the_cancel_and_409_when_none(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant))
    with pytest.raises(Conflict) as nothing:
        await use_cases.resume_subscription(
            resume_cmd(build, tenant), world.uow(), world.gateway, world.clock
        )
    assert nothing.value.code == "not_scheduled"
    await use_cases.cancel_subscription(
        cancel_cmd(build, tenant), world.uow(), world.gateway, world.clock
    )
    result = await use_cases.resume_subscription(
        resume_cmd(build, tenant), world.uow(), world.gateway, world.clock
    )
    assert result.cancel_at_period_end is False
    assert world.store.published_types() == [
        "subscription.cancel_scheduled",
        "subscription.resumed",
    ]


async def test_cancel_with_a_pending_downgrade_releases_the_schedule_first(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    pending = PendingPlanChange(plan=PlanType.SOLO, effective_at=world.clock.now())
    world.seed(build.paid_account(tenant, pending_plan=pending))
    result = await use_cases.cancel_subscription(
        cancel_cmd(build, tenant), world.uow(), world.gateway, world.clock
    )
    assert world.gateway.calls == ["release_pending_change", "schedule_cancel"]
    assert result.account.pending_plan is None
    assert result.dropped_pending == pending  # said, not silently dropped


async def test_preview_follows_the_plan_change_rules(world: World, build: type[Builders]) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant, plan=PlanType.TEAM))

    async def preview(plan: str, role: str = "owner") -> Any:
        cmd = PreviewProration(principal=build.principal(tenant, role), tenant_id=tenant, plan=plan)
        return (
            await plan_changes.preview_proration(
                cmd, world.reader, world.gateway, world.clock, world.quotes
            )
        ).preview

    up = await preview("enterprise")
    assert up.proration_amount.amount == 7000
    assert up.proration_date == world.clock.now()
    down = await preview("Solo ")
    assert down.proration_amount.amount == 0
    with pytest.raises(Conflict):
        await preview("team")
    with pytest.raises(RuleViolated) as unknown:
        await preview("platinum")
    assert unknown.value.code == "unknown_plan"
    with pytest.raises(Forbidden):
        await preview("enterprise", role="admin")
    free = build.tenant()
    with pytest.raises(Conflict):
        await plan_changes.preview_proration(
            PreviewProration(principal=build.principal(free), tenant_id=free, plan="team"),
            world.reader,
            world.gateway,
            world.clock,
            world.quotes,
        )
    assert world.store.commits == 0


async def test_upgrade_is_immediate_at_the_previews_proration_date(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant, plan=PlanType.SOLO))
    preview = PreviewProration(principal=build.principal(tenant), tenant_id=tenant, plan="team")
    shown = (
        await plan_changes.preview_proration(
            preview, world.reader, world.gateway, world.clock, world.quotes
        )
    ).preview.proration_date
    world.clock.advance(60)  # the owner reads the preview for a minute
    result = await plan_changes.change_plan(
        plan_cmd(build, tenant, "team", proration_date=shown),
        world.uow(),
        world.gateway,
        world.clock,
    )
    assert result.effective is PlanChangeEffective.NOW
    assert result.account.plan is PlanType.TEAM
    assert world.gateway.proration_dates == [shown]
    assert world.store.accounts[tenant].plan is PlanType.TEAM
    assert world.store.published_types() == ["subscription.plan_changed", "entitlements.changed"]
    changed = world.store.outbox[0]
    assert isinstance(changed, SubscriptionPlanChanged)
    assert changed.effective is PlanChangeEffective.NOW


async def test_downgrade_is_pending_until_the_period_end_then_an_upgrade_clears_it(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    account = world.seed(build.paid_account(tenant, plan=PlanType.ENTERPRISE))
    result = await plan_changes.change_plan(
        plan_cmd(build, tenant, "solo"), world.uow(), world.gateway, world.clock
    )
    assert result.effective is PlanChangeEffective.PERIOD_END
    assert result.account.plan is PlanType.ENTERPRISE
    assert account.current_period_end is not None
    assert result.account.pending_plan == PendingPlanChange(
        plan=PlanType.SOLO, effective_at=account.current_period_end
    )
    with pytest.raises(Conflict):
        await plan_changes.change_plan(
            plan_cmd(build, tenant, "solo"), world.uow(), world.gateway, world.clock
        )
    with pytest.raises(Conflict):  # the plan it is on
        await plan_changes.change_plan(
            plan_cmd(build, tenant, "enterprise"), world.uow(), world.gateway, world.clock
        )
    # Changing one's mind: a downgrade to team replaces the pending one.
    again = await plan_changes.change_plan(
        plan_cmd(build, tenant, "team"), world.uow(), world.gateway, world.clock
    )
    assert again.account.pending_plan is not None
    assert again.account.pending_plan.plan is PlanType.TEAM
    assert world.gateway.calls == ["schedule_plan_change", "schedule_plan_change"]
    assert world.store.published_types() == [
        "subscription.plan_changed",
        "subscription.plan_changed",
    ]


async def test_upgrade_with_a_pending_downgrade_releases_it(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant, plan=PlanType.TEAM))
    await plan_changes.change_plan(
        plan_cmd(build, tenant, "solo"), world.uow(), world.gateway, world.clock
    )
    result = await plan_changes.change_plan(
        plan_cmd(build, tenant, "enterprise"), world.uow(), world.gateway, world.clock
    )
    assert result.account.plan is PlanType.ENTERPRISE
    assert result.account.pending_plan is None
    assert world.gateway.calls == [
        "schedule_plan_change",
        "release_pending_change",
        "change_plan_now",
    ]


async def test_plan_change_refusals(world: World, build: type[Builders]) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant, plan=PlanType.TEAM, cancel_at_period_end=True))
    with pytest.raises(Conflict) as scheduled:
        await plan_changes.change_plan(
            plan_cmd(build, tenant, "enterprise"), world.uow(), world.gateway, world.clock
        )
    assert scheduled.value.code == "cancel_scheduled"
    with pytest.raises(RuleViolated):
        await plan_changes.change_plan(
            plan_cmd(build, tenant, "free"), world.uow(), world.gateway, world.clock
        )
    with pytest.raises(Forbidden):
        await plan_changes.change_plan(
            plan_cmd(build, tenant, "enterprise", role="member"),
            world.uow(),
            world.gateway,
            world.clock,
        )
    world.clock.advance(timedelta(days=1).total_seconds())
    assert world.gateway.calls == []


async def test_an_event_older_than_the_api_change_does_not_undo_it(
    world: World, build: type[Builders]
) -> None:
    from subscriptions.commands import ProjectBillingEvent
    from subscriptions.projection import Projected, project_billing_event

    tenant = build.tenant()
    account = world.seed(build.paid_account(tenant))
    await use_cases.cancel_subscription(
        cancel_cmd(build, tenant), world.uow(), world.gateway, world.clock
    )
    before_the_call = account.snapshot()  # cancel_at_period_end False, sent a minute ago
    assert before_the_call is not None
    delayed = build.subscription_updated(
        tenant, before_the_call, created=world.clock.now() - timedelta(minutes=1)
    )
    cmd = ProjectBillingEvent(
        message_id=str(delayed.id), routing_key=delayed.routing_key, event=delayed
    )
    outcome = await project_billing_event(cmd, world.uow(), world.gateway, world.clock)
    assert outcome is Projected.STALE
    assert world.store.accounts[tenant].cancel_at_period_end is True
    assert world.store.published_types() == ["subscription.cancel_scheduled"]


async def test_a_proration_date_no_preview_issued_is_refused_before_stripe(
    world: World, build: type[Builders]
) -> None:
    """Issue 15 item 1: a date of the client's choosing (the period's last minutes) made an
    upgrade nearly free; only a date a recent preview issued to this tenant and plan counts."""
    tenant, other = build.tenant(), build.tenant()
    account = world.seed(build.paid_account(tenant, plan=PlanType.SOLO))
    world.seed(build.paid_account(other, plan=PlanType.SOLO))

    async def preview(who: str, plan: str) -> datetime:
        cmd = PreviewProration(principal=build.principal(who), tenant_id=who, plan=plan)
        shown = await plan_changes.preview_proration(
            cmd, world.reader, world.gateway, world.clock, world.quotes
        )
        return shown.preview.proration_date

    issued = await preview(tenant, "enterprise")
    world.clock.advance(1)
    others = await preview(other, "enterprise")
    world.clock.advance(1)
    team_date = await preview(tenant, "team")
    assert account.current_period_end is not None
    forged = [
        account.current_period_end - timedelta(seconds=120),  # the attack
        others,  # issued, but to another tenant
        team_date,  # issued to this tenant, but for another plan
        issued + timedelta(seconds=1),  # near, not equal (and issued to the other tenant)
    ]
    for date in forged:
        with pytest.raises(RuleViolated) as refused:
            await plan_changes.change_plan(
                plan_cmd(build, tenant, "enterprise", proration_date=date),
                world.uow(),
                world.gateway,
                world.clock,
            )
        assert refused.value.code == "proration_date_not_issued"
    world.clock.advance(plan_changes.PRORATION_QUOTE_TTL.total_seconds())
    with pytest.raises(RuleViolated):  # expired
        await plan_changes.change_plan(
            plan_cmd(build, tenant, "enterprise", proration_date=issued),
            world.uow(),
            world.gateway,
            world.clock,
        )
    assert "change_plan_now" not in world.gateway.calls
    assert world.store.commits == 0
    assert world.store.accounts[tenant].plan is PlanType.SOLO

    without = await plan_changes.change_plan(
        plan_cmd(build, tenant, "enterprise"), world.uow(), world.gateway, world.clock
    )
    assert without.account.plan is PlanType.ENTERPRISE
    assert world.gateway.proration_dates == [None]  # none sent: Stripe's now for it
