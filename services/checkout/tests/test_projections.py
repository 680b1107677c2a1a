"""Unit tests of what checkout learns from billing events (fakes, no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from billing_domain.events import (
    CheckoutCompleted,
    InvoicePaid,
    SubscriptionActivated,
    SubscriptionCanceled,
    SubscriptionPlanChanged,
)
from billing_domain.plans import PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from checkout.projections import apply_event

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


async def apply(world: Any, event: Any) -> None:
    async with world.db.uow() as uow:
        await apply_event(uow, event)
        await uow.commit()


async def test_activation_then_a_checkout_of_the_same_plan_conflicts(world: Any) -> None:
    await apply(world, SubscriptionActivated(**header(), **subscription(PlanType.SOLO)))
    stored = world.db.tables.tenant_plans["t-1"]
    assert (stored.plan, stored.status, stored.as_of) == (PlanType.SOLO, "active", T0)


async def test_a_plan_change_moves_the_projection(world: Any) -> None:
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


async def test_a_cancellation_puts_the_tenant_on_free(world: Any) -> None:
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


async def test_an_older_event_never_overwrites_a_newer_state(world: Any) -> None:
    await apply(
        world,
        SubscriptionCanceled(
            **header(at=T0 + timedelta(days=30)), **subscription(PlanType.TEAM, "canceled")
        ),
    )
    await apply(world, SubscriptionActivated(**header(at=T0), **subscription(PlanType.TEAM)))
    assert world.db.tables.tenant_plans["t-1"].plan is PlanType.FREE


async def test_checkout_completed_marks_the_session_record(world: Any) -> None:
    started = await world.checkout("solo")
    await apply(
        world,
        CheckoutCompleted(
            **header(),
            checkout_session_id=started.session_id,
            stripe_customer_id="cus_1",
            stripe_subscription_id="sub_1",
            plan=PlanType.SOLO,
            trial=False,
            payment_status="paid",
            amount=900,
            currency="usd",
        ),
    )
    assert world.db.tables.sessions[started.session_id].status == "complete"


async def test_a_completed_event_about_a_foreign_session_is_ignored(world: Any) -> None:
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


async def test_events_checkout_does_not_consume_change_nothing(world: Any) -> None:
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
