"""Intervals, ``when``, the plan catalogue and the entitlements a tenant is granted."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billing_domain import account_events as ev
from billing_domain.auth import Principal, Role
from billing_domain.errors import Conflict, Forbidden, RuleViolated
from billing_domain.events import EntitlementsChanged, SubscriptionUpdated, event_from_envelope
from billing_domain.ordering import AppliedMark
from billing_domain.plan_catalogue import (
    COMPARISON_ROWS,
    PLAN_DEFINITIONS,
    granted_plan,
    yearly_saving_percent,
)
from billing_domain.plans import (
    BillingInterval,
    ChangeDirection,
    PlanChangeEffective,
    PlanType,
    lookup_key,
    parse_interval,
    price_change_direction,
)
from billing_domain.status import SubscriptionStatus
from billing_domain.stripe_rules import interval_from_price, pending_change
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
PERIOD_END = NOW + timedelta(days=20)
OWNER = Principal(user_id="u-owner", tenant_id="t1", role=Role.OWNER)
MEMBER = Principal(user_id="u-member", tenant_id="t1", role=Role.MEMBER)
MONTH, YEAR = BillingInterval.MONTH, BillingInterval.YEAR


def paid(**overrides: Any) -> BillingAccount:
    fields: dict[str, Any] = {
        "tenant_id": "t1",
        "stripe_customer_id": "cus_1",
        "stripe_subscription_id": "sub_1",
        "plan": PlanType.TEAM,
        "status": SubscriptionStatus.ACTIVE,
        "current_period_end": PERIOD_END,
    }
    fields.update(overrides)
    return BillingAccount(**fields)


def snap(**overrides: Any) -> SubscriptionSnapshot:
    fields: dict[str, Any] = {
        "subscription_id": "sub_1",
        "customer_id": "cus_1",
        "plan": PlanType.TEAM,
        "status": SubscriptionStatus.ACTIVE,
        "current_period_end": PERIOD_END,
    }
    fields.update(overrides)
    return SubscriptionSnapshot(**fields)


def pending_of(account: BillingAccount) -> PendingPlanChange | None:
    return account.pending_plan


def kinds(account: BillingAccount) -> list[type]:
    return [type(e) for e in account.pull_events()]


def test_intervals_parse_and_name_lookup_keys() -> None:
    assert parse_interval(" Year ") is YEAR
    assert lookup_key(PlanType.TEAM, YEAR) == "team_yearly"
    assert lookup_key(PlanType.SOLO, MONTH) == "solo_monthly"
    for bad in ("week", "", "yearly"):
        with pytest.raises(RuleViolated) as caught:
            parse_interval(bad)
        assert caught.value.code == "unknown_interval"


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ((PlanType.TEAM, MONTH), (PlanType.TEAM, YEAR), ChangeDirection.UPGRADE),
        ((PlanType.TEAM, YEAR), (PlanType.TEAM, MONTH), ChangeDirection.DOWNGRADE),
        ((PlanType.TEAM, YEAR), (PlanType.SOLO, YEAR), ChangeDirection.DOWNGRADE),
        ((PlanType.SOLO, YEAR), (PlanType.TEAM, MONTH), ChangeDirection.UPGRADE),
        ((PlanType.TEAM, YEAR), (PlanType.TEAM, YEAR), ChangeDirection.SAME),
    ],
)
def test_price_change_direction(
    current: tuple[PlanType, BillingInterval],
    target: tuple[PlanType, BillingInterval],
    expected: ChangeDirection,
) -> None:
    assert price_change_direction(*current, *target) is expected


def test_the_interval_of_a_price() -> None:
    assert interval_from_price(recurring_interval="year", lookup_key=None) is YEAR
    assert interval_from_price(recurring_interval=None, lookup_key="team_yearly") is YEAR
    assert interval_from_price(recurring_interval=None, lookup_key=None) is MONTH
    for interval, count in (("week", 1), ("day", 1), ("month", 3)):
        with pytest.raises(RuleViolated) as caught:
            interval_from_price(
                recurring_interval=interval, interval_count=count, lookup_key="team_monthly"
            )
        assert caught.value.code == "unknown_price"


def test_a_phase_on_the_same_plan_at_another_interval_is_pending() -> None:
    found = pending_change(PlanType.TEAM, [(PlanType.TEAM, PERIOD_END, MONTH)], interval=YEAR)
    assert found == PendingPlanChange(plan=PlanType.TEAM, effective_at=PERIOD_END, interval=MONTH)
    assert pending_change(PlanType.TEAM, [(PlanType.TEAM, PERIOD_END, YEAR)], interval=YEAR) is None


def test_month_to_year_is_an_upgrade_now_without_a_grant_change() -> None:
    account = paid()
    decision = account.request_plan_change(OWNER, PlanType.TEAM, NOW, interval=YEAR)
    assert (decision.direction, decision.effective) == (
        ChangeDirection.UPGRADE,
        PlanChangeEffective.NOW,
    )
    assert decision.prorate
    assert decision.changes_interval
    assert (account.plan, account.interval) == (PlanType.TEAM, YEAR)
    assert kinds(account) == [ev.SubscriptionPlanChanged]  # a price change grants nothing new


def test_year_to_month_defaults_to_renewal_and_refuses_now() -> None:
    account = paid(interval=YEAR)
    with pytest.raises(RuleViolated) as caught:
        account.request_plan_change(
            OWNER, PlanType.TEAM, NOW, interval=MONTH, when=PlanChangeEffective.NOW
        )
    assert caught.value.code == "when_not_possible"
    decision = account.request_plan_change(OWNER, PlanType.TEAM, NOW, interval=MONTH)
    assert decision.effective is PlanChangeEffective.PERIOD_END
    assert account.pending_plan == PendingPlanChange(
        plan=PlanType.TEAM, effective_at=PERIOD_END, interval=MONTH
    )
    assert account.interval is YEAR
    with pytest.raises(Conflict) as again:
        account.request_plan_change(OWNER, PlanType.TEAM, NOW, interval=MONTH)
    assert again.value.code == "already_pending"


def test_a_downgrade_now_when_asked_changes_the_grant_at_once() -> None:
    account = paid()
    decision = account.request_plan_change(OWNER, PlanType.SOLO, NOW, when=PlanChangeEffective.NOW)
    assert decision.direction is ChangeDirection.DOWNGRADE
    assert decision.prorate
    events = account.pull_events()
    assert [type(e) for e in events] == [ev.SubscriptionPlanChanged, ev.EntitlementsChanged]
    assert events[1] == ev.EntitlementsChanged(
        tenant_id="t1", subscription_id="sub_1", from_plan=PlanType.TEAM, to_plan=PlanType.SOLO
    )


def test_an_upgrade_at_renewal_when_asked_is_pending() -> None:
    account = paid(plan=PlanType.SOLO)
    decision = account.request_plan_change(
        OWNER, PlanType.TEAM, NOW, when=PlanChangeEffective.PERIOD_END
    )
    assert decision.effective_at == PERIOD_END
    assert not decision.prorate
    assert account.plan is PlanType.SOLO
    assert kinds(account) == [ev.SubscriptionPlanChanged]


def test_the_same_plan_and_interval_is_a_conflict() -> None:
    with pytest.raises(Conflict) as caught:
        paid(interval=YEAR).request_plan_change(OWNER, PlanType.TEAM, NOW, interval=YEAR)
    assert caught.value.code == "same_plan"


def test_stripe_moving_the_interval_is_a_plan_change_but_no_grant_change() -> None:
    account = paid()
    account.apply_stripe_snapshot(snap(interval=YEAR), mark_at(1))
    assert account.interval is YEAR
    assert kinds(account) == [ev.SubscriptionPlanChanged]


def test_a_pending_yearly_to_monthly_taking_effect_is_not_a_dropped_change() -> None:
    account = paid(interval=YEAR)
    pending = PendingPlanChange(plan=PlanType.TEAM, effective_at=PERIOD_END, interval=MONTH)
    account.apply_stripe_snapshot(snap(interval=YEAR, pending_plan=pending), mark_at(1))
    assert pending_of(account) == pending
    account.pull_events()
    later = PERIOD_END + timedelta(days=30)
    account.apply_stripe_snapshot(snap(interval=MONTH, current_period_end=later), mark_at(2))
    assert pending_of(account) is None
    assert kinds(account) == [ev.SubscriptionPlanChanged, ev.SubscriptionUpdated]


@pytest.mark.parametrize(
    ("status", "granted"),
    [
        (SubscriptionStatus.TRIALING, PlanType.TEAM),
        (SubscriptionStatus.PAST_DUE, PlanType.TEAM),
        (SubscriptionStatus.PAUSED, PlanType.FREE),
        (SubscriptionStatus.UNPAID, PlanType.FREE),
        (SubscriptionStatus.INCOMPLETE, PlanType.FREE),
        (SubscriptionStatus.CANCELED, PlanType.FREE),
    ],
)
def test_the_granted_plan(status: SubscriptionStatus, granted: PlanType) -> None:
    assert granted_plan(PlanType.TEAM, status) is granted


def test_a_trial_ending_without_payment_grants_free() -> None:
    account = paid(status=SubscriptionStatus.TRIALING)
    account.apply_stripe_snapshot(snap(status=SubscriptionStatus.PAUSED), mark_at(1))
    events = account.pull_events()
    assert (
        ev.EntitlementsChanged(
            tenant_id="t1", subscription_id="sub_1", from_plan=PlanType.TEAM, to_plan=PlanType.FREE
        )
        in events
    )


def test_withdraw_a_pending_change() -> None:
    account = paid(pending_plan=PendingPlanChange(plan=PlanType.SOLO, effective_at=PERIOD_END))
    with pytest.raises(Forbidden):
        account.withdraw_pending_change(MEMBER)
    withdrawn = account.withdraw_pending_change(OWNER)
    assert withdrawn.plan is PlanType.SOLO
    assert account.pending_plan is None
    assert kinds(account) == [ev.PendingPlanChangeDropped]
    with pytest.raises(Conflict) as caught:
        account.withdraw_pending_change(OWNER)
    assert caught.value.code == "no_pending_change"


def test_the_catalogue_covers_every_plan_and_every_row() -> None:
    assert set(PLAN_DEFINITIONS) == set(PlanType)
    for definition in PLAN_DEFINITIONS.values():
        values = definition.features.as_dict() | definition.limits.as_dict()
        assert {row.key for row in COMPARISON_ROWS} == set(values)
    ladder = [PLAN_DEFINITIONS[p].limits.projects for p in PlanType]
    bounded = [n for n in ladder if n is not None]
    assert bounded == sorted(bounded)
    assert ladder[-1] is None  # unlimited on top


def test_yearly_saving() -> None:
    assert yearly_saving_percent(900, 9000) == 17
    assert yearly_saving_percent(900, 10800) == 0
    assert yearly_saving_percent(0, 0) == 0


def test_old_messages_without_an_interval_decode_as_monthly() -> None:
    body: dict[str, Any] = {
        "id": "6f1c1d2e-0000-4000-8000-000000000001",
        "type": "subscription.updated",
        "schema_version": 1,
        "occurred_at": "2026-03-01T12:00:00Z",
        "tenant_id": "t1",
        "source": "webhooks",
        "causation_id": "evt_1",
        "data": {
            "stripe_subscription_id": "sub_1",
            "stripe_customer_id": "cus_1",
            "plan": "team",
            "status": "active",
        },
    }
    event = event_from_envelope(body)
    assert isinstance(event, SubscriptionUpdated)
    assert event.interval is MONTH
    assert event.snapshot().interval is MONTH
    yearly = event_from_envelope({**body, "data": {**body["data"], "interval": "year"}})
    assert isinstance(yearly, SubscriptionUpdated)
    assert yearly.interval is YEAR
    with pytest.raises(RuleViolated):
        event_from_envelope({**body, "data": {**body["data"], "interval": "week"}})


def test_entitlements_changed_round_trips() -> None:
    body = {
        "id": "6f1c1d2e-0000-4000-8000-000000000002",
        "type": "entitlements.changed",
        "schema_version": 1,
        "occurred_at": "2026-03-01T12:00:00Z",
        "tenant_id": "t1",
        "source": "subscriptions",
        "causation_id": "req_1",
        "data": {"plan": "free", "previous_plan": "team", "stripe_subscription_id": "sub_1"},
    }
    event = event_from_envelope(body)
    assert isinstance(event, EntitlementsChanged)
    assert event.to_envelope() == body


def mark_at(seconds: int) -> AppliedMark:
    return AppliedMark(created=NOW + timedelta(seconds=seconds), event_id=f"evt_{seconds}")
