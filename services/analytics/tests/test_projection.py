"""The ledger through the fakes: movements, activity, idempotence, late events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from analytics.commands import GetMetrics
from analytics.projection import project_billing_event
from analytics.testing import (
    FakeMetricsReader,
    FakeStore,
    checkout_completed,
    checkout_created,
    consumed,
    invoice_paid,
    payment_failed,
    portal_opened,
    subscription_updated,
)
from analytics.use_cases import get_metrics
from billing_domain.auth import ADMIN_SCOPE, Principal, Role
from billing_domain.envelope import IntegrationEvent
from billing_domain.plans import PlanType
from billing_domain.revenue import MovementKind
from billing_domain.status import SubscriptionStatus as S
from billing_platform.testing.clock import FakeClock

pytestmark = pytest.mark.unit

DAY1 = datetime(2026, 10, 1, 9, tzinfo=UTC)
OPERATOR = Principal(
    user_id="op", tenant_id="ops", role=Role.MEMBER, scopes=frozenset({ADMIN_SCOPE})
)


async def apply(store: FakeStore, *events: IntegrationEvent) -> list[bool]:
    return [await project_billing_event(consumed(e), store.uow()) for e in events]


async def report(store: FakeStore, first: date, last: date, **kw: Any) -> dict[str, Any]:
    cmd = GetMetrics(principal=OPERATOR, first=first, last=last, **kw)
    return await get_metrics(cmd, FakeMetricsReader(store), FakeClock())


def kinds(store: FakeStore) -> list[tuple[str, str, int, int]]:
    moves = sorted(store.data.movements.values(), key=lambda m: m.occurred_at)
    return [(m.tenant_id, m.kind.value, m.mrr_before, m.mrr_after) for m in moves]


async def test_each_change_is_one_named_movement() -> None:
    store = FakeStore()
    t = "t1"
    await apply(
        store,
        subscription_updated(t, at=DAY1, status=S.TRIALING, plan=PlanType.TEAM, amount=4900),
        subscription_updated(t, at=DAY1 + timedelta(days=14), plan=PlanType.TEAM, amount=4900),
        subscription_updated(
            t, at=DAY1 + timedelta(days=20), plan=PlanType.ENTERPRISE, amount=9900
        ),
        subscription_updated(t, at=DAY1 + timedelta(days=25), plan=PlanType.SOLO, amount=1900),
        subscription_updated(t, at=DAY1 + timedelta(days=26), status=S.PAST_DUE, amount=1900),
        subscription_updated(t, at=DAY1 + timedelta(days=30), status=S.CANCELED, amount=1900),
        subscription_updated(
            t, at=DAY1 + timedelta(days=40), amount=1900, subscription_id="sub_again"
        ),
    )
    assert kinds(store) == [
        (t, MovementKind.NEW, 0, 4900),
        (t, MovementKind.EXPANSION, 4900, 9900),
        (t, MovementKind.CONTRACTION, 9900, 1900),
        (t, MovementKind.CHURN, 1900, 0),
        (t, MovementKind.REACTIVATION, 0, 1900),
    ]
    facts = sorted((a.kind, a.occurred_at) for a in store.data.activity.values())
    assert facts == [
        ("trial_converted", DAY1 + timedelta(days=14)),
        ("trial_started", DAY1),
    ]


async def test_free_plans_trials_and_unpaid_count_nothing() -> None:
    store = FakeStore()
    await apply(
        store,
        subscription_updated("a", at=DAY1, plan=PlanType.FREE, amount=0),
        subscription_updated("b", at=DAY1, status=S.TRIALING, amount=4900),
        subscription_updated("c", at=DAY1, status=S.INCOMPLETE, amount=4900),
        subscription_updated("d", at=DAY1, status=S.UNPAID, amount=4900),
        subscription_updated("e", at=DAY1, status=S.PAUSED, amount=4900),
    )
    assert kinds(store) == []


async def test_a_redelivered_or_replayed_event_changes_no_number() -> None:
    store = FakeStore()
    upgrade = subscription_updated("t", at=DAY1, amount=1000)
    failure = payment_failed("t", at=DAY1, invoice_id="in_1", amount_due=1000)
    assert await apply(store, upgrade, failure) == [True, True]
    before = await report(store, DAY1.date(), DAY1.date())
    # the same message again (redelivery): the inbox drops it
    assert await apply(store, upgrade, failure) == [False, False]
    # the same facts under new message ids (a replay, a republish): keys and marks drop them
    again = [
        await project_billing_event(consumed(e, message_id=f"other-{e.id}"), store.uow())
        for e in (upgrade, failure)
    ]
    assert again == [True, True]
    assert await report(store, DAY1.date(), DAY1.date()) == before


async def test_a_stale_state_changes_nothing_and_a_late_event_lands_in_its_own_day() -> None:
    store = FakeStore()
    newer = subscription_updated("t", at=DAY1 + timedelta(days=2), amount=2000)
    older = subscription_updated("t", at=DAY1, amount=1000)
    await apply(store, newer, older)  # the older arrives after the newer: ignored
    assert kinds(store) == [("t", "new", 0, 2000)]
    # a payment failure of day 1 arriving (late) after day 3's events lands on day 1
    await apply(store, payment_failed("t", at=DAY1, invoice_id="in_late", amount_due=2000))
    by_day = await report(store, DAY1.date(), (DAY1 + timedelta(days=2)).date())
    series = by_day["currencies"]["usd"]["series"]
    assert [p["failed_payments"] for p in series] == [1, 0, 0]
    assert [p["mrr"] for p in series] == [0, 0, 2000]


@pytest.mark.parametrize("ids", [("evt_b", "evt_a"), ("evt_a", "evt_b")])
async def test_events_of_the_same_second_apply_in_arrival_order_and_once(
    ids: tuple[str, str],
) -> None:
    """Stripe stamps ``created`` in whole seconds and its event ids are random: a
    subscription created incomplete and made active in the same second is active,
    whichever id sorts first, and a replay of either copy changes nothing."""
    store = FakeStore()
    created = subscription_updated("t", at=DAY1, status=S.INCOMPLETE, event_id=ids[0])
    active = subscription_updated("t", at=DAY1, status=S.ACTIVE, event_id=ids[1])
    assert await apply(store, created, active) == [True, True]
    assert kinds(store) == [("t", "new", 0, 1000)]
    for event in (created, active):  # replayed under new message ids
        await project_billing_event(consumed(event, message_id=f"again-{event.id}"), store.uow())
    assert kinds(store) == [("t", "new", 0, 1000)]
    assert store.data.states["t"].mrr == 1000


async def test_recovery_rate_and_time_to_recover() -> None:
    store = FakeStore()
    await apply(
        store,
        payment_failed("a", at=DAY1, invoice_id="in_a", amount_due=1000),
        payment_failed(
            "a", at=DAY1 + timedelta(days=3), invoice_id="in_a", amount_due=1000, attempt=2
        ),
        payment_failed("b", at=DAY1, invoice_id="in_b", amount_due=3000),
        invoice_paid("a", at=DAY1 + timedelta(days=4), invoice_id="in_a", amount_paid=1000),
        invoice_paid("c", at=DAY1, invoice_id="in_c", amount_paid=500),
    )
    totals = (await report(store, DAY1.date(), (DAY1 + timedelta(days=9)).date()))["currencies"][
        "usd"
    ]["totals"]
    assert totals["failed_payments"] == 2
    assert totals["recovered_payments"] == 1
    assert totals["recovery_rate_pct"] == 50.0
    assert totals["failed_amount"] == 4000
    assert totals["recovered_amount"] == 1000
    assert totals["recovery_amount_pct"] == 25.0
    assert totals["median_time_to_recover_seconds"] == timedelta(days=4).total_seconds()


async def test_checkout_conversion_and_cancellations() -> None:
    store = FakeStore()
    await apply(
        store,
        checkout_created("a", at=DAY1, session_id="cs_1"),
        checkout_created("b", at=DAY1, session_id="cs_2"),
        checkout_completed("a", at=DAY1, session_id="cs_1"),
        portal_opened("a", at=DAY1),
        portal_opened("b", at=DAY1 + timedelta(days=1)),
        subscription_updated("a", at=DAY1, amount=1000),
        subscription_updated(
            "a", at=DAY1 + timedelta(hours=1), amount=1000, cancel_at_period_end=True
        ),
        subscription_updated(
            "a", at=DAY1 + timedelta(hours=2), amount=1000, cancel_at_period_end=True
        ),
    )
    activity = (await report(store, DAY1.date(), DAY1.date()))["activity"]["totals"]
    assert activity["checkout_created"] == 2
    assert activity["checkout_completed"] == 1
    assert activity["checkout_conversion_pct"] == 50.0
    assert activity["cancellations_scheduled"] == 1
    assert activity["portal_sessions"] == 1  # the other one is the next day's


async def test_the_kpi_gauges_come_from_the_ledger() -> None:
    from analytics import metrics
    from analytics.kpi_gauges import set_gauges

    store = FakeStore()
    now = DAY1 + timedelta(minutes=30)
    await apply(
        store,
        subscription_updated("k1", at=DAY1, amount=1000, currency="kpi"),
        payment_failed("k1", at=DAY1, invoice_id="in_k1", amount_due=1000),
        payment_failed(
            "k1", at=DAY1 + timedelta(minutes=5), invoice_id="in_k1", amount_due=1000, attempt=2
        ),
        invoice_paid("k2", at=DAY1, invoice_id="in_k2", amount_paid=500),
        invoice_paid("k3", at=DAY1 - timedelta(hours=2), invoice_id="in_old", amount_paid=500),
    )
    set_gauges(await FakeMetricsReader(store).kpis(now), now.timestamp())
    assert metrics.MRR.labels("kpi")._value.get() == 1000
    assert metrics.INVOICE_PAYMENT_ATTEMPTS.labels("failed")._value.get() == 2
    assert metrics.INVOICE_PAYMENT_ATTEMPTS.labels("paid")._value.get() == 1
    assert metrics.PAYMENT_FAILURE_RATIO._value.get() == 2 / 3
