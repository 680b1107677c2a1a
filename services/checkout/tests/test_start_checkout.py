"""Unit tests of start_checkout through fakes of its ports (no I/O)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from billing_domain.errors import Conflict, Forbidden, GatewayUnavailable, RuleViolated
from billing_domain.events import CheckoutSessionCreated, CustomerCreated
from billing_domain.plans import PlanType
from checkout.ports import TenantPlan
from checkout.testing import World

pytestmark = pytest.mark.unit


async def test_first_checkout_creates_the_customer_and_the_session(world: World) -> None:
    started = await world.checkout("solo")

    assert started.session_id == "cs_test_1"
    assert started.url == "https://pay.test/cs_test_1"
    assert world.gateway.customers == {"cus_1": "t-1"}
    (request,) = world.gateway.requests
    assert request.price_id == "price_solo"
    assert request.customer_id == "cus_1"
    assert request.trial_days is None
    assert request.success_url == (
        "https://app.example/settings?success=true&session_id={CHECKOUT_SESSION_ID}"
    )
    assert request.cancel_url == "https://app.example/settings?canceled=true"
    tables = world.db.tables
    assert tables.customers == {"t-1": "cus_1"}
    assert tables.sessions["cs_test_1"].plan is PlanType.SOLO
    customer_created, session_created = tables.outbox
    assert isinstance(customer_created, CustomerCreated)
    assert customer_created.stripe_customer_id == "cus_1"
    assert isinstance(session_created, CheckoutSessionCreated)
    assert (session_created.checkout_session_id, session_created.plan) == ("cs_test_1", "solo")
    assert session_created.source == "checkout"
    assert session_created.causation_id == "req-1"


async def test_a_trial_checkout_asks_for_the_configured_trial_and_marks_the_success_url(
    world: World,
) -> None:
    await world.checkout("team", trial=True)
    (request,) = world.gateway.requests
    assert request.trial_days == 14
    assert request.success_url.endswith("&trial=true")
    assert world.db.tables.sessions["cs_test_1"].trial is True


async def test_the_second_checkout_reuses_the_customer(world: World) -> None:
    await world.checkout("solo")
    world.clock.advance(60)
    await world.checkout("team")
    assert world.gateway.calls["customers.create"] == 1
    assert [r.customer_id for r in world.gateway.requests] == ["cus_1", "cus_1"]
    assert sum(isinstance(e, CustomerCreated) for e in world.db.tables.outbox) == 1


@pytest.mark.parametrize("role", ["member", "admin"])
async def test_only_the_owner_may_start_a_checkout(world: World, role: str) -> None:
    with pytest.raises(Forbidden) as raised:
        await world.checkout("solo", role=role)
    assert raised.value.code == "owner_only"
    assert not world.gateway.calls


@pytest.mark.parametrize(
    ("plan", "trial", "code"),
    [
        ("platinum", False, "unknown_plan"),
        ("", False, "unknown_plan"),
        ("free", False, "free_plan"),
        ("solo", True, "trial_not_offered"),
        ("enterprise", False, "plan_unavailable"),
    ],
)
async def test_plans_that_cannot_be_bought_are_refused(
    world: World, plan: str, trial: bool, code: str
) -> None:
    with pytest.raises(RuleViolated) as raised:
        await world.checkout(plan, trial=trial)
    assert raised.value.code == code
    assert not world.gateway.calls


async def test_no_trial_when_trial_days_are_zero(world: World) -> None:
    world.config = replace(world.config, trial_days=0)
    with pytest.raises(RuleViolated, match="no trial"):
        await world.checkout("team", trial=True)


def on(plan: PlanType, world: World) -> TenantPlan:
    return TenantPlan(tenant_id="t-1", plan=plan, status="active", as_of=world.clock.now())


async def test_a_tenant_already_on_the_plan_gets_a_conflict(world: World) -> None:
    world.db.tables.tenant_plans["t-1"] = on(PlanType.SOLO, world)
    with pytest.raises(Conflict) as raised:
        await world.checkout("solo")
    assert raised.value.code == "already_on_plan"
    assert not world.gateway.calls


async def test_a_subscribed_tenant_changes_plan_elsewhere_instead_of_a_second_subscription(
    world: World,
) -> None:
    world.db.tables.tenant_plans["t-1"] = on(PlanType.TEAM, world)
    with pytest.raises(Conflict) as raised:
        await world.checkout("solo")
    assert raised.value.code == "already_subscribed"


async def test_a_tenant_back_on_free_may_check_out_again(world: World) -> None:
    world.db.tables.tenant_plans["t-1"] = on(PlanType.FREE, world)
    assert (await world.checkout("solo")).session_id


async def test_a_double_click_returns_the_same_session_without_a_second_stripe_call(
    world: World,
) -> None:
    first = await world.checkout("team")
    world.clock.advance(3)
    second = await world.checkout("team")
    assert second.session_id == first.session_id
    assert second.replayed
    assert world.gateway.calls["checkout.sessions.create"] == 1
    assert sum(isinstance(e, CheckoutSessionCreated) for e in world.db.tables.outbox) == 1


async def test_after_the_double_click_window_a_new_session_is_opened(world: World) -> None:
    first = await world.checkout("team")
    world.clock.advance(world.config.double_click_window_s + 1)
    second = await world.checkout("team")
    assert second.session_id != first.session_id


async def test_concurrent_double_clicks_get_one_session(world: World) -> None:
    results = await asyncio.gather(*(world.checkout("team") for _ in range(5)))
    assert len({r.session_id for r in results}) == 1
    assert len(world.db.tables.sessions) == 1
    assert sum(isinstance(e, CheckoutSessionCreated) for e in world.db.tables.outbox) == 1


async def test_the_idempotency_key_replays_and_refuses_another_request(world: World) -> None:
    first = await world.checkout("solo", idempotency_key="k-1")
    world.clock.advance(3600)
    again = await world.checkout("solo", idempotency_key="k-1")
    assert again.session_id == first.session_id
    other = await world.checkout("solo", idempotency_key="k-2")
    assert other.session_id != first.session_id
    with pytest.raises(Conflict) as raised:
        await world.checkout("team", idempotency_key="k-1")
    assert raised.value.code == "idempotency_key_reused"


async def test_twenty_concurrent_first_checkouts_create_one_customer(world: World) -> None:
    results = await asyncio.gather(
        *(world.checkout("solo", idempotency_key=f"k-{n}") for n in range(20))
    )
    assert len({r.session_id for r in results}) == 20
    assert world.gateway.calls["customers.create"] == 1
    assert world.db.tables.customers == {"t-1": "cus_1"}
    assert {r.customer_id for r in world.gateway.requests} == {"cus_1"}


async def test_stripe_down_before_the_customer_leaves_nothing_stored(world: World) -> None:
    world.gateway.down = {"customers.create"}
    with pytest.raises(GatewayUnavailable):
        await world.checkout("solo")
    assert world.db.tables.customers == {}
    assert world.db.tables.sessions == {}
    assert world.db.tables.outbox == []


async def test_stripe_down_for_the_session_keeps_only_the_finished_customer(world: World) -> None:
    world.gateway.down = {"checkout.sessions.create"}
    with pytest.raises(GatewayUnavailable):
        await world.checkout("solo")
    assert world.db.tables.sessions == {}
    assert [type(e) for e in world.db.tables.outbox] == [CustomerCreated]
    world.gateway.down = set()
    assert (await world.checkout("solo")).session_id
    assert world.gateway.calls["customers.create"] == 1


async def test_a_yearly_checkout_sells_the_yearly_price(world: World) -> None:
    monthly = await world.checkout("solo")
    yearly = await world.checkout("solo", interval="year")
    assert yearly.session_id != monthly.session_id  # a double click never mixes intervals
    first, second = world.gateway.requests
    assert (first.price_id, second.price_id) == ("price_solo", "price_solo_yearly")
    assert second.interval.value == "year"
    assert world.db.tables.sessions[yearly.session_id].interval.value == "year"
    created = [e for e in world.db.tables.outbox if isinstance(e, CheckoutSessionCreated)]
    assert [e.interval.value for e in created] == ["month", "year"]


@pytest.mark.parametrize("interval", ["week", "yearly", ""])
async def test_an_unknown_interval_is_refused_before_stripe(world: World, interval: str) -> None:
    with pytest.raises(RuleViolated) as refused:
        await world.checkout("solo", interval=interval)
    assert refused.value.code == "unknown_interval"
    assert world.gateway.requests == []


async def test_a_plan_without_a_yearly_price_is_unavailable_yearly(world: World) -> None:
    with pytest.raises(RuleViolated) as refused:
        await world.checkout("team", interval="year")
    assert refused.value.code == "plan_unavailable"
    assert world.gateway.requests == []
