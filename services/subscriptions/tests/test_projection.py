"""The projection use case with fakes: ordering, duplicates, ties, checkout first, invoices."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

import pytest
from billing_domain.envelope import IntegrationEvent
from billing_domain.errors import GatewayUnavailable
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.message import IncomingMessage, OutgoingMessage, PoisonMessage
from subscriptions.commands import ProjectBillingEvent
from subscriptions.consumer import decode
from subscriptions.projection import Projected, project_billing_event
from subscriptions.publishing import PUBLISHED_TYPES
from subscriptions.testing import Builders, World

pytestmark = pytest.mark.unit

T = __import__("datetime").datetime(2026, 12, 1, 12, 0, tzinfo=__import__("datetime").UTC)


async def project(
    world: World, event: IntegrationEvent, message_id: str | None = None
) -> Projected:
    cmd = ProjectBillingEvent(
        message_id=message_id or str(event.id), routing_key=event.routing_key, event=event
    )
    return await project_billing_event(cmd, world.uow(), world.gateway, world.clock)


def lifecycle(build: type[Builders], tenant: str) -> list[Any]:
    """Stripe's events of one subscription, oldest first: created, paid, cancel set, ended."""
    snap = build.snapshot
    states = [
        snap(status=SubscriptionStatus.INCOMPLETE),
        snap(status=SubscriptionStatus.ACTIVE),
        snap(status=SubscriptionStatus.ACTIVE, cancel_at_period_end=True),
        snap(status=SubscriptionStatus.CANCELED, cancel_at_period_end=True),
    ]
    return [
        build.subscription_updated(tenant, state, created=T + timedelta(seconds=10 * i))
        for i, state in enumerate(states)
    ]


async def test_every_order_with_duplicates_ends_on_stripes_final_state(
    world: World, build: type[Builders]
) -> None:
    for order in itertools.permutations(range(4)):
        tenant = build.tenant()
        events = lifecycle(build, tenant)
        deliveries = [events[i] for i in order] + [events[order[0]], events[order[-1]]]
        for event in deliveries:
            await project(world, event)
        account = world.store.accounts[tenant]
        assert (account.plan, account.status) == (PlanType.FREE, SubscriptionStatus.CANCELED)
        assert account.cancel_at_period_end is False
        assert account.last_applied["sub_1"].event_id == events[-1].causation_id
    assert world.gateway.calls == []  # no ties here: never a Stripe call


async def test_in_order_lifecycle_publishes_each_change_once(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    for event in lifecycle(build, tenant):
        await project(world, event)
        await project(world, event)  # redelivered
    assert world.store.published_types() == [
        "subscription.activated",
        "entitlements.changed",
        "subscription.cancel_scheduled",
        "subscription.canceled",
        "entitlements.changed",
    ]
    assert {e.source for e in world.store.outbox} == {"subscriptions"}


async def test_redelivered_message_is_a_no_op(world: World, build: type[Builders]) -> None:
    tenant = build.tenant()
    event = lifecycle(build, tenant)[1]
    assert await project(world, event) is Projected.APPLIED
    commits = world.store.commits
    assert await project(world, event) is Projected.DUPLICATE_MESSAGE
    assert world.store.commits == commits
    assert world.store.published_types() == ["subscription.activated", "entitlements.changed"]


async def test_older_event_never_overwrites_newer_state(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    created, active, scheduled, _ = lifecycle(build, tenant)
    await project(world, scheduled)
    assert await project(world, active) is Projected.STALE
    assert await project(world, created) is Projected.STALE
    assert world.store.accounts[tenant].cancel_at_period_end is True


async def test_tie_that_disagrees_is_settled_by_reading_stripe(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    same_second = T + timedelta(seconds=5)
    first = build.subscription_updated(tenant, build.snapshot(), created=same_second)
    second = build.subscription_updated(
        tenant, build.snapshot(cancel_at_period_end=True), created=same_second
    )
    world.gateway.put(build.snapshot(cancel_at_period_end=True))  # what Stripe says now

    await project(world, second)
    assert await project(world, first) is Projected.REREAD

    account = world.store.accounts[tenant]
    assert account.cancel_at_period_end is True
    assert world.gateway.calls == ["read_subscription"]


async def test_tie_that_agrees_needs_no_stripe_call(world: World, build: type[Builders]) -> None:
    tenant = build.tenant()
    same_second = T + timedelta(seconds=5)
    one = build.subscription_updated(tenant, build.snapshot(), created=same_second)
    other = build.subscription_updated(tenant, build.snapshot(), created=same_second)
    await project(world, one)
    assert await project(world, other) is Projected.DUPLICATE
    assert world.gateway.calls == []


async def test_tie_while_stripe_is_down_fails_so_the_broker_retries(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    same_second = T + timedelta(seconds=5)
    await project(world, build.subscription_updated(tenant, build.snapshot(), created=same_second))
    world.gateway.fail_with = GatewayUnavailable("down")
    tie = build.subscription_updated(
        tenant, build.snapshot(plan=PlanType.SOLO), created=same_second
    )
    with pytest.raises(GatewayUnavailable):
        await project(world, tie)
    world.gateway.fail_with = None
    world.gateway.put(build.snapshot(plan=PlanType.SOLO))
    assert await project(world, tie) is Projected.REREAD  # not in the inbox: retried
    assert world.store.accounts[tenant].plan is PlanType.SOLO


async def test_checkout_before_any_subscription_event_provisions_from_stripe(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.gateway.put(build.snapshot(subscription_id="sub_new", customer_id="cus_new"))
    checkout = build.checkout_completed(
        tenant, customer_id="cus_new", subscription_id="sub_new", created=T
    )
    await project(world, checkout)

    account = world.store.accounts[tenant]
    assert (account.plan, account.status) == (PlanType.TEAM, SubscriptionStatus.ACTIVE)
    assert account.stripe_customer_id == "cus_new"
    assert account.current_period_end == T + timedelta(days=30)
    assert world.store.published_types() == ["subscription.activated", "entitlements.changed"]

    # Stripe's own events of that second then agree, or are older: nothing more to say.
    created = build.subscription_updated(
        tenant,
        build.snapshot(
            subscription_id="sub_new", customer_id="cus_new", status=SubscriptionStatus.INCOMPLETE
        ),
        created=T - timedelta(seconds=1),
    )
    assert await project(world, created) is Projected.STALE
    assert world.store.accounts[tenant].status is SubscriptionStatus.ACTIVE
    assert world.store.published_types() == ["subscription.activated", "entitlements.changed"]


async def test_checkout_while_stripe_is_down_gives_access_from_the_event(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.gateway.fail_with = GatewayUnavailable("down")
    checkout = build.checkout_completed(
        tenant, customer_id="cus_t", subscription_id="sub_t", plan=PlanType.TEAM, trial=True
    )
    await project(world, checkout)
    account = world.store.accounts[tenant]
    assert (account.plan, account.status) == (PlanType.TEAM, SubscriptionStatus.TRIALING)
    world.gateway.fail_with = None
    # The subscription's event fills in the rest.
    later = build.subscription_updated(
        tenant,
        build.snapshot(
            subscription_id="sub_t",
            customer_id="cus_t",
            status=SubscriptionStatus.TRIALING,
            trial_end=T + timedelta(days=14),
        ),
        created=T + timedelta(seconds=1),
    )
    await project(world, later)
    assert world.store.accounts[tenant].trial_end == T + timedelta(days=14)
    assert world.store.published_types() == ["subscription.activated", "entitlements.changed"]


async def test_payment_failure_shown_then_cleared_in_any_order(
    world: World, build: type[Builders]
) -> None:
    for paid_first in (False, True):
        tenant = build.tenant()
        await project(world, lifecycle(build, tenant)[1])
        failed = build.payment_failed(
            tenant, invoice_id="in_1", subscription_id="sub_1", created=T + timedelta(days=1)
        )
        paid = build.invoice_paid(
            tenant, invoice_id="in_1", subscription_id="sub_1", created=T + timedelta(days=2)
        )
        for event in (paid, failed) if paid_first else (failed, paid):
            await project(world, event)
            if event is failed and not paid_first:
                failure = world.store.accounts[tenant].payment_failure
                assert failure is not None
                assert failure.amount_due.amount == 2900
                assert failure.hosted_invoice_url == "https://pay.example/in_1"
        assert world.store.accounts[tenant].payment_failure is None
    assert not any(t.startswith("invoice.") for t in world.store.published_types())


async def test_invoice_of_another_subscription_changes_nothing(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    await project(world, lifecycle(build, tenant)[1])
    other = build.payment_failed(tenant, invoice_id="in_x", subscription_id="sub_old")
    assert await project(world, other) is Projected.IGNORED
    assert world.store.accounts[tenant].payment_failure is None


async def test_only_this_services_types_are_ever_published(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    base = T
    snaps = [
        build.snapshot(status=SubscriptionStatus.TRIALING, trial_end=T + timedelta(days=14)),
        build.snapshot(status=SubscriptionStatus.ACTIVE),
        build.snapshot(status=SubscriptionStatus.PAST_DUE),
        build.snapshot(status=SubscriptionStatus.ACTIVE, period_end=T + timedelta(days=60)),
        build.snapshot(plan=PlanType.ENTERPRISE),
        build.snapshot(
            plan=PlanType.ENTERPRISE,
            pending_plan=__import__(
                "billing_domain.subscription_snapshot", fromlist=["PendingPlanChange"]
            ).PendingPlanChange(plan=PlanType.SOLO, effective_at=T + timedelta(days=30)),
        ),
        build.snapshot(plan=PlanType.SOLO),
        build.snapshot(plan=PlanType.SOLO, status=SubscriptionStatus.UNPAID),
        build.snapshot(plan=PlanType.SOLO, status=SubscriptionStatus.CANCELED),
    ]
    for i, snap in enumerate(snaps):
        await project(
            world, build.subscription_updated(tenant, snap, created=base + timedelta(minutes=i))
        )
    types = world.store.published_types()
    assert set(types) <= PUBLISHED_TYPES
    assert "subscription.plan_changed" in types
    assert types[-1] == "subscription.canceled"


def _message(body: Any, message_id: str = "m-1", key: str = "billing.x") -> IncomingMessage:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return IncomingMessage(message_id=message_id, routing_key=key, body=raw)


def test_decoding_refuses_what_can_never_work(build: type[Builders]) -> None:
    good = build.subscription_updated(build.tenant(), build.snapshot(), created=T)
    envelope: dict[str, Any] = good.to_envelope()
    assert decode(_message(envelope)) is not None
    for poison in (
        b"{oops",
        b"\xff\xfe",
        [1, 2],
        {**envelope, "schema_version": 2},
        {**envelope, "data": {**envelope["data"], "status": "exploded"}},
        {**envelope, "tenant_id": ""},
        {k: v for k, v in envelope.items() if k != "tenant_id"},
    ):
        with pytest.raises(PoisonMessage):
            decode(_message(poison))
    assert decode(_message({**envelope, "type": "invoice.brand_new"})) is None


def test_outgoing_envelope_round_trips_through_decode(build: type[Builders]) -> None:
    event = build.invoice_paid(build.tenant(), invoice_id="in_1", subscription_id="sub_1")
    out = OutgoingMessage.from_event(event)
    cmd = decode(_message(out.body, message_id=out.message_id, key=out.routing_key))
    assert cmd is not None
    assert cmd.event == event


async def test_kpi_counters_count_real_changes_once(world: World, build: type[Builders]) -> None:
    from prometheus_client import REGISTRY

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {
        "activated": sample("billing_subscription_changes_total", change="activated"),
        "canceled": sample("billing_subscription_changes_total", change="canceled"),
        "failures": sample("billing_payment_failures_total"),
        "resolved": sample("billing_payment_failures_resolved_total"),
        "resolution_count": sample("billing_payment_failure_resolution_seconds_count"),
        "resolution_sum": sample("billing_payment_failure_resolution_seconds_sum"),
        "within_a_day": sample("billing_payment_failure_resolution_seconds_bucket", le="86400.0"),
    }
    tenant = build.tenant()
    for event in lifecycle(build, tenant)[:2]:
        await project(world, event)
        await project(world, event)  # redelivered: counted once
    failed = build.payment_failed(
        tenant, invoice_id="in_9", subscription_id="sub_1", created=T + timedelta(days=1)
    )
    paid = build.invoice_paid(
        tenant, invoice_id="in_9", subscription_id="sub_1", created=T + timedelta(days=2)
    )
    for event in (failed, paid):
        await project(world, event)
    for event in lifecycle(build, tenant)[2:]:
        await project(world, event)
    assert (
        sample("billing_subscription_changes_total", change="activated") == before["activated"] + 1
    )
    assert sample("billing_subscription_changes_total", change="canceled") == before["canceled"] + 1
    assert sample("billing_payment_failures_total") == before["failures"] + 1
    assert sample("billing_payment_failures_resolved_total") == before["resolved"] + 1
    # Failed at T + 1 day, paid at T + 2 days (Stripe's times): resolved in a day.
    assert (
        sample("billing_payment_failure_resolution_seconds_count") == before["resolution_count"] + 1
    )
    assert (
        sample("billing_payment_failure_resolution_seconds_sum") == before["resolution_sum"] + 86400
    )
    assert (
        sample("billing_payment_failure_resolution_seconds_bucket", le="86400.0")
        == before["within_a_day"] + 1
    )
