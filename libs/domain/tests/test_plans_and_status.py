import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_domain.errors import RuleViolated
from billing_domain.plans import (
    PAID_PLANS,
    ChangeDirection,
    PlanType,
    change_direction,
    parse_plan,
)
from billing_domain.status import SubscriptionStatus, parse_status

pytestmark = pytest.mark.unit


def test_plans_rank_free_solo_team_enterprise() -> None:
    ranked = sorted(PlanType, key=lambda p: p.rank)
    assert ranked == [PlanType.FREE, PlanType.SOLO, PlanType.TEAM, PlanType.ENTERPRISE]
    assert [p.rank for p in ranked] == [0, 1, 2, 3]


def test_only_free_is_unpaid_and_only_team_allows_a_trial() -> None:
    assert [p for p in PlanType if not p.is_paid] == [PlanType.FREE]
    assert PAID_PLANS == (PlanType.SOLO, PlanType.TEAM, PlanType.ENTERPRISE)
    assert [p for p in PlanType if p.allows_trial] == [PlanType.TEAM]


@pytest.mark.parametrize("raw", ["team", "TEAM", " Team "])
def test_parse_plan_tolerates_case_and_whitespace(raw: str) -> None:
    assert parse_plan(raw) is PlanType.TEAM


@pytest.mark.parametrize("raw", ["", "gold", "team-plus"])
def test_parse_plan_rejects_unknown_names(raw: str) -> None:
    with pytest.raises(RuleViolated) as caught:
        parse_plan(raw)
    assert caught.value.code == "unknown_plan"
    assert "enterprise" in caught.value.message


def test_parse_plan_rejects_non_strings() -> None:
    with pytest.raises(RuleViolated):
        parse_plan(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        (PlanType.SOLO, PlanType.TEAM, ChangeDirection.UPGRADE),
        (PlanType.ENTERPRISE, PlanType.SOLO, ChangeDirection.DOWNGRADE),
        (PlanType.TEAM, PlanType.TEAM, ChangeDirection.SAME),
        (PlanType.FREE, PlanType.SOLO, ChangeDirection.UPGRADE),
    ],
)
def test_change_direction(current: PlanType, target: PlanType, expected: ChangeDirection) -> None:
    assert change_direction(current, target) is expected


@given(st.sampled_from(PlanType), st.sampled_from(PlanType))
def test_change_direction_is_antisymmetric(a: PlanType, b: PlanType) -> None:
    forth, back = change_direction(a, b), change_direction(b, a)
    opposite = {
        ChangeDirection.UPGRADE: ChangeDirection.DOWNGRADE,
        ChangeDirection.DOWNGRADE: ChangeDirection.UPGRADE,
        ChangeDirection.SAME: ChangeDirection.SAME,
    }
    assert back is opposite[forth]
    assert (forth is ChangeDirection.SAME) == (a is b)


def test_status_covers_every_stripe_status_with_its_label() -> None:
    assert {s.value: s.label for s in SubscriptionStatus} == {
        "trialing": "Trial",
        "active": "Active",
        "past_due": "Past Due",
        "canceled": "Canceled",
        "unpaid": "Unpaid",
        "incomplete": "Incomplete",
        "incomplete_expired": "Expired",
        "paused": "Paused",
    }


def test_paid_access_only_while_trialing_active_or_past_due() -> None:
    assert {s for s in SubscriptionStatus if s.has_paid_access} == {
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.PAST_DUE,
    }


def test_ended_statuses() -> None:
    assert {s for s in SubscriptionStatus if s.is_ended} == {
        SubscriptionStatus.CANCELED,
        SubscriptionStatus.INCOMPLETE_EXPIRED,
    }


def test_parse_status() -> None:
    assert parse_status(" Past_Due") is SubscriptionStatus.PAST_DUE
    with pytest.raises(RuleViolated) as caught:
        parse_status("deleted")
    assert caught.value.code == "unknown_status"
