"""The failed invoice's attempts (the banner's reason, card and timeline), as the
projection keeps them from ``invoice.payment_failed`` / ``payment_action_required``."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from billing_domain import events as ev
from billing_domain.envelope import IntegrationEvent
from billing_domain.payment_failure import AttemptOutcome
from billing_domain.status import SubscriptionStatus
from subscriptions.commands import ProjectBillingEvent
from subscriptions.projection import Projected, project_billing_event
from subscriptions.testing import Builders, World
from subscriptions.views import subscription_body

pytestmark = pytest.mark.unit

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def project(world: World, event: IntegrationEvent) -> Projected:
    cmd = ProjectBillingEvent(message_id=str(event.id), routing_key=event.routing_key, event=event)
    return await project_billing_event(cmd, world.uow(), world.gateway, world.clock)


async def _failing(world: World, build: type[Builders]) -> str:
    """A tenant with an active subscription ``sub_1``."""
    tenant: str = build.tenant()
    snapshot = build.snapshot(status=SubscriptionStatus.ACTIVE)
    await project(world, build.subscription_updated(tenant, snapshot, created=T))
    return tenant


def _attempts(build: type[Builders], tenant: str) -> list[ev.InvoicePaymentFailed]:
    return [
        build.payment_failed(
            tenant,
            invoice_id="in_1",
            subscription_id="sub_1",
            created=T + timedelta(days=1),
            attempt_count=1,
            decline_code="generic_decline",
            card=("visa", "0341"),
        ),
        build.payment_failed(
            tenant,
            invoice_id="in_1",
            subscription_id="sub_1",
            created=T + timedelta(days=4),
            attempt_count=2,
            decline_code="insufficient_funds",
            card=("mastercard", "9995"),
        ),
    ]


async def test_the_attempts_make_a_timeline_in_any_order(
    world: World, build: type[Builders]
) -> None:
    for order in itertools.permutations(range(2)):
        tenant = await _failing(world, build)
        events = _attempts(build, tenant)
        for index in order:
            await project(world, events[index])
        await project(world, events[order[0]])  # a redelivery adds nothing

        failure = world.store.accounts[tenant].payment_failure
        assert failure is not None
        assert [a.number for a in failure.attempts] == [1, 2]
        assert [a.decline_code for a in failure.attempts] == [
            "generic_decline",
            "insufficient_funds",
        ]
        latest = failure.latest_attempt
        assert latest is not None
        assert (latest.card_brand, latest.card_last4) == ("mastercard", "9995")
        assert failure.since == T + timedelta(days=1)


async def test_the_read_body_carries_the_reason_the_card_and_the_attempts(
    world: World, build: type[Builders]
) -> None:
    tenant = await _failing(world, build)
    for event in _attempts(build, tenant):
        await project(world, event)

    body = subscription_body(world.store.accounts[tenant], now=T)

    failed = body["payment_failed"]
    assert failed["decline_code"] == "insufficient_funds"
    assert failed["card"] == {"brand": "mastercard", "last4": "9995"}
    assert failed["attempts"] == [
        {
            "at": "2026-12-02T12:00:00Z",
            "outcome": "declined",
            "decline_code": "generic_decline",
            "card": {"brand": "visa", "last4": "0341"},
        },
        {
            "at": "2026-12-05T12:00:00Z",
            "outcome": "declined",
            "decline_code": "insufficient_funds",
            "card": {"brand": "mastercard", "last4": "9995"},
        },
    ]


async def test_3ds_reported_twice_is_one_attempt_that_keeps_what_it_knows(
    world: World, build: type[Builders]
) -> None:
    for action_first in (True, False):
        tenant = await _failing(world, build)
        action = build.from_webhooks(
            ev.InvoicePaymentActionRequired,
            tenant,
            T + timedelta(days=1),
            stripe_invoice_id="in_3",
            stripe_customer_id="cus_1",
            stripe_subscription_id="sub_1",
            currency="usd",
            amount_due=2900,
            card_brand="visa",
            card_last4="3155",
        )
        failed = build.from_webhooks(
            ev.InvoicePaymentFailed,
            tenant,
            T + timedelta(days=1),
            stripe_invoice_id="in_3",
            stripe_customer_id="cus_1",
            stripe_subscription_id="sub_1",
            currency="usd",
            amount_due=2900,
            action_required=False,  # a payment_failed that could not read the payments
        )
        for event in (action, failed) if action_first else (failed, action):
            await project(world, event)

        failure = world.store.accounts[tenant].payment_failure
        assert failure is not None
        assert failure.action_required
        [attempt] = failure.attempts
        assert attempt.card_last4 == "3155"


async def test_paying_clears_the_timeline_and_a_new_failure_starts_its_own(
    world: World, build: type[Builders]
) -> None:
    tenant = await _failing(world, build)
    for event in _attempts(build, tenant):
        await project(world, event)
    await project(
        world,
        build.invoice_paid(
            tenant, invoice_id="in_1", subscription_id="sub_1", created=T + timedelta(days=5)
        ),
    )
    assert world.store.accounts[tenant].payment_failure is None

    await project(
        world,
        build.payment_failed(
            tenant,
            invoice_id="in_2",
            subscription_id="sub_1",
            created=T + timedelta(days=35),
            decline_code="expired_card",
            card=("visa", "0069"),
        ),
    )

    failure = world.store.accounts[tenant].payment_failure
    assert failure is not None
    assert [(a.number, a.decline_code) for a in failure.attempts] == [(1, "expired_card")]
    assert failure.attempts[0].outcome is AttemptOutcome.DECLINED


async def test_another_tenants_attempts_never_reach_this_tenant(
    world: World, build: type[Builders]
) -> None:
    mine = await _failing(world, build)
    theirs = await _failing(world, build)
    await project(world, _attempts(build, mine)[0])

    await project(world, _attempts(build, theirs)[1])  # same invoice id, other tenant

    failure = world.store.accounts[mine].payment_failure
    assert failure is not None
    assert [a.card_last4 for a in failure.attempts] == ["0341"]
    assert world.store.accounts[mine].status is SubscriptionStatus.ACTIVE
