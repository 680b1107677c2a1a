"""Unit tests of what checkout learns from billing events (fakes, no I/O), the one
trial per tenant and per Stripe customer (issue 15 item 3) included."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from billing_domain.envelope import IntegrationEvent
from billing_domain.errors import Conflict
from billing_domain.events import (
    CheckoutCompleted,
    InvoicePaid,
    SubscriptionActivated,
    SubscriptionCanceled,
    SubscriptionPlanChanged,
)
from billing_domain.plans import PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.billing_events import ConsumedEvent
from checkout.projection import apply_event, project_billing_event
from checkout.testing import World
from checkout.trials import trial_available

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def header(tenant: str = "t-1", at: datetime = T0) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "occurred_at": at,
        "tenant_id": tenant,
        "source": "subscriptions",
        "causation_id": f"evt_{uuid.uuid4().hex[:8]}",
        "stripe_created": at,
    }


def subscription(plan: PlanType, status: str = "active") -> dict[str, Any]:
    return {
        "stripe_subscription_id": "sub_1",
        "stripe_customer_id": "cus_1",
        "plan": plan,
        "status": SubscriptionStatus(status),
    }


def completed(
    session_id: str, *, tenant: str = "t-1", customer: str = "cus_1", trial: bool = False
) -> CheckoutCompleted:
    """A paid solo checkout, or a team trial (``trial=True``)."""
    return CheckoutCompleted(
        **header(tenant),
        checkout_session_id=session_id,
        stripe_customer_id=customer,
        stripe_subscription_id="sub_1",
        plan=PlanType.TEAM if trial else PlanType.SOLO,
        trial=trial,
        payment_status="no_payment_required" if trial else "paid",
        amount=0 if trial else 900,
        currency="usd",
    )


async def apply(world: World, event: IntegrationEvent) -> None:
    async with world.db.uow() as uow:
        await apply_event(uow, event)
        await uow.commit()


async def test_activation_then_a_checkout_of_the_same_plan_conflicts(world: World) -> None:
    await apply(world, SubscriptionActivated(**header(), **subscription(PlanType.SOLO)))
    stored = world.db.tables.tenant_plans["t-1"]
    assert (stored.plan, stored.status, stored.as_of) == (PlanType.SOLO, "active", T0)


async def test_a_plan_change_moves_the_projection(world: World) -> None:
    await apply(world, SubscriptionActivated(**header(), **subscription(PlanType.SOLO)))
    later = T0 + timedelta(days=1)
    await apply(
        world,
        SubscriptionPlanChanged(
            **header(at=later),
            **subscription(PlanType.TEAM),
            from_plan=PlanType.SOLO,
            to_plan=PlanType.TEAM,
            effective=PlanChangeEffective.NOW,
        ),
    )
    assert world.db.tables.tenant_plans["t-1"].plan is PlanType.TEAM


async def test_a_cancellation_puts_the_tenant_on_free(world: World) -> None:
    await apply(world, SubscriptionActivated(**header(), **subscription(PlanType.TEAM)))
    await apply(
        world,
        SubscriptionCanceled(
            **header(at=T0 + timedelta(days=30)), **subscription(PlanType.TEAM, "canceled")
        ),
    )
    stored = world.db.tables.tenant_plans["t-1"]
    assert (stored.plan, stored.status) == (PlanType.FREE, "canceled")
    assert (await world.checkout("team")).session_id


async def test_an_older_event_never_overwrites_a_newer_state(world: World) -> None:
    await apply(
        world,
        SubscriptionCanceled(
            **header(at=T0 + timedelta(days=30)), **subscription(PlanType.TEAM, "canceled")
        ),
    )
    await apply(world, SubscriptionActivated(**header(at=T0), **subscription(PlanType.TEAM)))
    assert world.db.tables.tenant_plans["t-1"].plan is PlanType.FREE


async def test_checkout_completed_marks_the_session_record(world: World) -> None:
    started = await world.checkout("solo")
    await apply(
        world,
        completed(started.session_id),
    )
    assert world.db.tables.sessions[started.session_id].status == "complete"


async def test_a_completed_event_about_a_foreign_session_is_ignored(world: World) -> None:
    await apply(
        world,
        CheckoutCompleted(
            **header(),
            checkout_session_id="cs_test_elsewhere",
            stripe_customer_id="cus_1",
            stripe_subscription_id=None,
            plan=PlanType.SOLO,
            trial=False,
            payment_status="paid",
            amount=900,
            currency="usd",
        ),
    )
    assert world.db.tables.sessions == {}


async def test_events_checkout_does_not_consume_change_nothing(world: World) -> None:
    await apply(
        world,
        InvoicePaid(
            **header(),
            stripe_invoice_id="in_1",
            stripe_customer_id="cus_1",
            currency="usd",
            amount_paid=900,
        ),
    )
    assert world.db.tables.tenant_plans == {}


# -- one trial per tenant and per Stripe customer --


async def refused(world: World, tenant: str) -> Conflict:
    calls = sum(world.gateway.calls.values())
    with pytest.raises(Conflict) as caught:
        await world.checkout("team", tenant_id=tenant, trial=True)
    assert sum(world.gateway.calls.values()) == calls  # nothing reached Stripe
    return caught.value


async def test_a_completed_trial_checkout_uses_up_the_tenants_trial(world: World) -> None:
    assert await trial_available(world.db.uow, "t-1") is True  # what /pricing asks
    started = await world.checkout("team", tenant_id="t-1", trial=True)
    customer = world.db.tables.customers["t-1"]
    await apply(
        world,
        completed(started.session_id, customer=customer, trial=True),
    )
    sub: dict[str, Any] = {
        "stripe_subscription_id": "sub_1",
        "stripe_customer_id": customer,
        "plan": PlanType.TEAM,
        "trial_end": T0 + timedelta(days=14),
    }
    ended = T0 + timedelta(days=15)
    canceled = SubscriptionStatus("canceled")
    await apply(world, SubscriptionCanceled(**header("t-1", at=ended), **sub, status=canceled))

    assert (await refused(world, "t-1")).code == "trial_already_used"
    assert await trial_available(world.db.uow, "t-1") is False  # /pricing offers none
    assert await trial_available(world.db.uow, "t-2") is True
    paid = await world.checkout("team", tenant_id="t-1")  # without a trial: fine
    assert world.gateway.requests[-1].trial_days is None
    assert paid.session_id


async def test_a_subscription_seen_with_a_trial_counts_however_it_started(world: World) -> None:
    """A trial started elsewhere (the portal, an operator) is a used trial too."""
    sub: dict[str, Any] = {
        "stripe_subscription_id": "sub_2",
        "stripe_customer_id": "cus_shared",
        "plan": PlanType.TEAM,
    }
    trialing = SubscriptionStatus("trialing")
    trial_end = T0 + timedelta(days=14)
    await apply(
        world, SubscriptionActivated(**header("t-2"), **sub, status=trialing, trial_end=trial_end)
    )
    ended = SubscriptionStatus("canceled")
    await apply(world, SubscriptionCanceled(**header("t-2", at=trial_end), **sub, status=ended))
    assert (await refused(world, "t-2")).code == "trial_already_used"


async def test_the_stripe_customer_counts_as_well_as_the_tenant(world: World) -> None:
    """A tenant whose Stripe customer already had a trial (under another tenant id) gets none."""
    async with world.db.uow() as uow:
        await uow.trials.record(tenant_id="t-old", customer_id="cus_3", evidence="test", used_at=T0)
        await uow.customers.add(tenant_id="t-3", customer_id="cus_3", created_at=T0)
        await uow.commit()
    assert (await refused(world, "t-3")).code == "trial_already_used"


async def test_an_unpaid_or_trialless_history_leaves_the_trial(world: World) -> None:
    started = await world.checkout("solo", tenant_id="t-4")
    await apply(
        world,
        completed(started.session_id, tenant="t-4", customer=world.db.tables.customers["t-4"]),
    )
    assert world.db.tables.trials == {}


async def test_a_tenant_has_one_open_trial_checkout_at_a_time(world: World) -> None:
    """Several trial sessions opened first and all completed later would be several trials."""
    first = await world.checkout("team", tenant_id="t-5", trial=True, idempotency_key="k-1")
    again = await world.checkout("team", tenant_id="t-5", trial=True, idempotency_key="k-2")
    racing = await asyncio.gather(
        *(
            world.checkout("team", tenant_id="t-6", trial=True, idempotency_key=f"k-{n}")
            for n in range(5)
        )
    )
    assert (again.session_id, again.replayed) == (first.session_id, True)
    assert len({started.session_id for started in racing}) == 1
    assert [r.tenant_id for r in world.gateway.requests] == ["t-5", "t-6"]


async def test_a_trial_completed_at_stripe_counts_before_its_event_arrives(world: World) -> None:
    started = await world.checkout("team", tenant_id="t-7", trial=True)
    world.gateway.complete(started.session_id, payment_status="no_payment_required")
    with pytest.raises(Conflict) as refused_early:
        await world.checkout("team", tenant_id="t-7", trial=True, idempotency_key="k-again")
    assert refused_early.value.code == "trial_already_used"
    assert len(world.gateway.requests) == 1


async def test_an_expired_trial_checkout_makes_way_for_a_new_one(world: World) -> None:
    started = await world.checkout("team", tenant_id="t-8", trial=True)
    expired = replace(world.gateway.sessions[started.session_id], status="expired")
    world.gateway.sessions[started.session_id] = expired
    fresh = await world.checkout("team", tenant_id="t-8", trial=True, idempotency_key="k-new")
    assert fresh.session_id != started.session_id


async def test_a_message_is_applied_once_whatever_the_broker_redelivers(world: World) -> None:
    started = await world.checkout("solo", tenant_id="t-1")
    event = completed(started.session_id, customer=world.db.tables.customers["t-1"])
    cmd = ConsumedEvent(message_id="m-1", routing_key=event.routing_key, event=event)
    commits = world.db.commits

    assert await project_billing_event(cmd, world.db.uow()) is True
    assert await project_billing_event(cmd, world.db.uow()) is False  # a redelivery

    assert world.db.tables.inbox == {"m-1"}
    assert world.db.tables.sessions[started.session_id].status == "complete"
    assert world.db.commits == commits + 1
