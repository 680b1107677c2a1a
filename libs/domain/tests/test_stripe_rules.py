"""The rules by which Stripe's facts become ours (``billing_domain.stripe_rules``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billing_domain.errors import RuleViolated
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.stripe_rules import is_trial, pending_change, plan_from_price, provisions

T1 = datetime(2027, 1, 1, tzinfo=UTC)
T2 = datetime(2027, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "payment_status", "expected"),
    [
        ("complete", "paid", True),
        ("complete", "no_payment_required", True),
        ("complete", "unpaid", False),  # a delayed payment method still settling
        ("open", "paid", False),
        ("expired", "no_payment_required", False),
        (None, None, False),
    ],
)
def test_provisioning_rule(status: str | None, payment_status: str | None, expected: bool) -> None:
    assert provisions(status=status, payment_status=payment_status) is expected


@pytest.mark.parametrize("status", list(SubscriptionStatus))
def test_a_subscription_is_a_trial_exactly_when_trialing(status: SubscriptionStatus) -> None:
    assert is_trial(status=status) is (status is SubscriptionStatus.TRIALING)


def test_a_session_is_a_trial_when_checkout_asked_for_one_whatever_the_status() -> None:
    assert is_trial(trial_requested=True) is True
    assert is_trial(trial_requested=False, status=SubscriptionStatus.TRIALING) is False
    assert is_trial() is False  # nothing known: not a trial


CONFIGURED = {"price_team": PlanType.TEAM}


def test_configured_price_id_wins_over_everything() -> None:
    plan = plan_from_price(
        price_id="price_team",
        lookup_key="solo_monthly",
        metadata_plan="enterprise",
        configured=CONFIGURED,
    )
    assert plan is PlanType.TEAM


def test_lookup_key_wins_over_metadata() -> None:
    """The issue's divergent case: lookup key says team, metadata says solo -> team."""
    plan = plan_from_price(
        price_id="price_x", lookup_key="team_monthly", metadata_plan="solo", configured={}
    )
    assert plan is PlanType.TEAM


def test_metadata_decides_only_when_nothing_else_does() -> None:
    plan = plan_from_price(price_id="price_x", lookup_key=None, metadata_plan="solo", configured={})
    assert plan is PlanType.SOLO
    plan = plan_from_price(
        price_id="price_x", lookup_key="legacy_key", metadata_plan=" Solo ", configured={}
    )
    assert plan is PlanType.SOLO


@pytest.mark.parametrize(
    ("lookup_key", "metadata_plan"),
    [(None, None), ("free_monthly", None), (None, "free"), ("gold_monthly", "platinum"), ("", "")],
)
def test_a_price_naming_no_paid_plan_is_refused(
    lookup_key: str | None, metadata_plan: str | None
) -> None:
    with pytest.raises(RuleViolated) as refused:
        plan_from_price(
            price_id="price_x", lookup_key=lookup_key, metadata_plan=metadata_plan, configured={}
        )
    assert refused.value.code == "unknown_price"


def test_pending_change_skips_phases_on_the_same_plan() -> None:
    """The issue's divergent case: team -> team -> solo pends solo at the third phase."""
    found = pending_change(PlanType.TEAM, [(PlanType.TEAM, T1), (PlanType.SOLO, T2)])
    assert found is not None
    assert (found.plan, found.effective_at) == (PlanType.SOLO, T2)


def test_no_pending_change_when_every_phase_keeps_the_plan() -> None:
    assert pending_change(PlanType.TEAM, [(PlanType.TEAM, T1), (PlanType.TEAM, T2)]) is None
    assert pending_change(PlanType.TEAM, []) is None


def test_pending_change_is_the_first_different_plan_not_the_last() -> None:
    found = pending_change(PlanType.TEAM, [(PlanType.SOLO, T1), (PlanType.ENTERPRISE, T2)])
    assert found is not None
    assert (found.plan, found.effective_at) == (PlanType.SOLO, T1)
