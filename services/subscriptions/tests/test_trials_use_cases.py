"""Trials on the fakes: convert now, an operator's extension (audited, capped, never
prorated), and a paused subscription resumed once a payment method is known."""

from __future__ import annotations

from datetime import timedelta

import pytest
from billing_domain.auth import ADMIN_SCOPE, Principal, Role
from billing_domain.customer_events import CustomerUpdated
from billing_domain.errors import Conflict, Forbidden, GatewayUnavailable, NotFound
from billing_domain.events import SubscriptionTrialExtended, new_event
from billing_domain.status import SubscriptionStatus
from prometheus_client import REGISTRY
from subscriptions import trials
from subscriptions.commands import ProjectBillingEvent
from subscriptions.projection import project_billing_event
from subscriptions.testing import T0, Builders, World

pytestmark = pytest.mark.unit

OPERATOR = Principal(
    user_id="ops-ann", tenant_id="ops", role=Role.MEMBER, scopes=frozenset({ADMIN_SCOPE})
)
TRIAL_END = T0 + timedelta(days=10)


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def seed_trial(world: World, build: type[Builders], *, card: bool) -> str:
    tenant = build.tenant()
    world.seed(
        build.paid_account(
            tenant,
            status=SubscriptionStatus.TRIALING,
            period_end=TRIAL_END,
            trial_end=TRIAL_END,
            has_payment_method=card,
        )
    )
    return tenant


def extend(tenant: str, days: int, principal: Principal = OPERATOR) -> trials.ExtendTrial:
    return trials.ExtendTrial(
        principal=principal, tenant_id=tenant, extend_days=days, reason="demo", causation_id="r1"
    )


async def run_extend(world: World, cmd: trials.ExtendTrial) -> trials.TrialExtended:
    return await trials.extend_trial(
        cmd, world.uow(), world.reader, world.gateway, world.clock, max_extension_days=30
    )


async def test_convert_now_ends_the_trial_at_stripe(world: World, build: type[Builders]) -> None:
    tenant = seed_trial(world, build, card=True)
    cmd = trials.EndTrial(
        principal=build.principal(tenant), tenant_id=tenant, request_key="k", causation_id="r"
    )
    account = await trials.end_trial_now(cmd, world.uow(), world.gateway, world.clock)
    assert account.status is SubscriptionStatus.ACTIVE
    assert world.gateway.calls == ["end_trial_now"]


@pytest.mark.parametrize(
    ("card", "status", "role", "error", "code"),
    [
        (False, SubscriptionStatus.TRIALING, "owner", Conflict, "payment_method_required"),
        (True, SubscriptionStatus.ACTIVE, "owner", Conflict, "not_trialing"),
        (True, SubscriptionStatus.TRIALING, "member", Forbidden, "owner_only"),
    ],
)
async def test_convert_now_refusals_never_reach_stripe(
    world: World,
    build: type[Builders],
    card: bool,
    status: SubscriptionStatus,
    role: str,
    error: type[Exception],
    code: str,
) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant, status=status, has_payment_method=card))
    cmd = trials.EndTrial(
        principal=build.principal(tenant, role), tenant_id=tenant, request_key="k", causation_id="r"
    )
    with pytest.raises(error) as refused:
        await trials.end_trial_now(cmd, world.uow(), world.gateway, world.clock)
    assert getattr(refused.value, "code", None) == code
    preview = trials.PreviewTrialEnd(principal=build.principal(tenant, role), tenant_id=tenant)
    with pytest.raises(error):
        await trials.preview_trial_end(preview, world.reader, world.gateway)
    assert world.gateway.calls == []


async def test_an_extension_moves_the_end_is_audited_and_published(
    world: World, build: type[Builders]
) -> None:
    tenant = seed_trial(world, build, card=False)
    days_before = _sample("billing_trial_extension_days_total")
    done = await run_extend(world, extend(tenant, 7))
    assert _sample("billing_trial_extension_days_total") - days_before == 7
    assert _sample("billing_trial_actions_total", action="extended") >= 1
    assert done.account.trial_end == TRIAL_END + timedelta(days=7)
    assert done.total_extended_days == 7
    assert world.gateway.calls == ["move_trial_end"]
    (record,) = world.store.trial_extensions.records
    assert (record.operator_sub, record.status, record.reason) == ("ops-ann", "applied", "demo")
    assert (record.previous_trial_end, record.new_trial_end) == (
        TRIAL_END,
        TRIAL_END + timedelta(days=7),
    )
    (event,) = [e for e in world.store.outbox if isinstance(e, SubscriptionTrialExtended)]
    assert (event.extend_days, event.extended_by, event.source) == (7, "ops-ann", "subscriptions")


async def test_the_cap_answers_409_before_stripe(world: World, build: type[Builders]) -> None:
    tenant = seed_trial(world, build, card=False)
    await run_extend(world, extend(tenant, 20))
    with pytest.raises(Conflict) as capped:
        await run_extend(world, extend(tenant, 11))
    assert capped.value.code == "trial_extension_cap"
    assert world.gateway.calls == ["move_trial_end"]
    done = await run_extend(world, extend(tenant, 10))  # exactly 30 in all
    assert done.total_extended_days == 30


async def test_a_failed_stripe_call_releases_the_reserved_days(
    world: World, build: type[Builders]
) -> None:
    tenant = seed_trial(world, build, card=False)
    world.gateway.fail_with = GatewayUnavailable("down")
    with pytest.raises(GatewayUnavailable):
        await run_extend(world, extend(tenant, 30))
    assert world.store.trial_extensions.records == []
    world.gateway.fail_with = None
    assert (await run_extend(world, extend(tenant, 30))).total_extended_days == 30


async def test_extension_refusals(world: World, build: type[Builders]) -> None:
    active = build.tenant()
    world.seed(build.paid_account(active))
    with pytest.raises(Conflict) as not_trialing:
        await run_extend(world, extend(active, 3))
    assert not_trialing.value.code == "not_trialing"
    with pytest.raises(NotFound):
        await run_extend(world, extend("tenant-nobody-knows", 3))
    owner = build.principal(active)
    with pytest.raises(Forbidden):
        await run_extend(world, extend(active, 3, owner))
    assert world.gateway.calls == []


async def test_a_paused_subscription_is_resumed_once_a_card_is_known(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant, status=SubscriptionStatus.PAUSED))
    resumed = await trials.resume_if_payable(
        tenant, world.uow, world.gateway, world.clock, causation_id="evt_1"
    )
    assert resumed is None  # no card yet: nothing asked of Stripe
    assert world.gateway.calls == []
    account = world.store.accounts[tenant]
    account.has_payment_method = True
    resumed = await trials.resume_if_payable(
        tenant, world.uow, world.gateway, world.clock, causation_id="evt_2"
    )
    assert resumed is not None
    assert resumed.status is SubscriptionStatus.ACTIVE
    assert world.gateway.keys[-1].endswith("evt_2")
    assert "subscription.activated" in world.store.published_types()


async def test_a_customer_default_card_makes_a_paused_trial_payable(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    account = world.seed(build.paid_account(tenant, status=SubscriptionStatus.PAUSED))
    assert account.stripe_customer_id is not None
    added = new_event(
        CustomerUpdated,
        tenant_id=tenant,
        source="webhooks",
        causation_id="evt_customer_1",
        clock=world.clock,
        stripe_customer_id=account.stripe_customer_id,
        default_payment_method_id="pm_1",
        stripe_created=T0,
    )
    cmd = ProjectBillingEvent(message_id=str(added.id), routing_key=added.routing_key, event=added)
    await project_billing_event(cmd, world.uow(), world.gateway, world.clock)
    assert world.store.accounts[tenant].has_payment_method
    resumed = await trials.resume_if_payable(
        tenant, world.uow, world.gateway, world.clock, causation_id="evt_customer_1"
    )
    assert resumed is not None
    assert world.gateway.calls == ["read_subscription", "resume_paused"]


async def test_another_customers_default_changes_nothing(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant, status=SubscriptionStatus.PAUSED))
    stray = new_event(
        CustomerUpdated,
        tenant_id=tenant,
        source="webhooks",
        causation_id="evt_customer_2",
        clock=world.clock,
        stripe_customer_id="cus_someone_else",
        default_payment_method_id="pm_9",
        stripe_created=T0,
    )
    cmd = ProjectBillingEvent(message_id=str(stray.id), routing_key=stray.routing_key, event=stray)
    await project_billing_event(cmd, world.uow(), world.gateway, world.clock)
    assert not world.store.accounts[tenant].has_payment_method
    assert (
        await trials.resume_if_payable(
            tenant, world.uow, world.gateway, world.clock, causation_id="evt_customer_2"
        )
        is None
    )


async def test_a_paused_projection_of_a_resumed_subscription_is_read_again(
    world: World, build: type[Builders]
) -> None:
    """A paused snapshot sent before the resume can arrive after it: Stripe, read again,
    says active, and no second resume is asked for."""
    tenant = build.tenant()
    world.seed(
        build.paid_account(tenant, status=SubscriptionStatus.PAUSED, has_payment_method=True)
    )
    subscription_id = world.store.accounts[tenant].stripe_subscription_id
    assert subscription_id is not None
    world.gateway._update(subscription_id, status=SubscriptionStatus.ACTIVE)
    resumed = await trials.resume_if_payable(
        tenant, world.uow, world.gateway, world.clock, causation_id="evt_late"
    )
    assert resumed is not None
    assert resumed.status is SubscriptionStatus.ACTIVE
    assert world.gateway.calls == ["read_subscription"]
