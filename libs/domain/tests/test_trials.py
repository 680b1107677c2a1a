"""Trials: days left on the subscription's clock, convert now, an operator's extension."""

from datetime import UTC, datetime, timedelta

import pytest

from billing_domain.auth import Principal, Role
from billing_domain.errors import Conflict, Forbidden, RuleViolated
from billing_domain.ordering import AppliedMark
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.stripe_rules import can_charge, collection_paused
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import SubscriptionSnapshot
from billing_domain.trials import days_left, decide_extension, stripe_now

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
OWNER = Principal(user_id="u-owner", tenant_id="t1", role=Role.OWNER)
MEMBER = Principal(user_id="u-member", tenant_id="t1", role=Role.MEMBER)


def trialing(**overrides: object) -> BillingAccount:
    account = BillingAccount(
        tenant_id="t1",
        stripe_customer_id="cus_1",
        stripe_subscription_id="sub_1",
        plan=PlanType.TEAM,
        status=SubscriptionStatus.TRIALING,
        trial_end=NOW + 14 * DAY,
        current_period_end=NOW + 14 * DAY,
    )
    for name, value in overrides.items():
        setattr(account, name, value)
    return account


def test_days_left_round_up_and_stop_at_the_end_of_the_trial() -> None:
    end = NOW + 2 * DAY + timedelta(hours=1)
    assert days_left(status=SubscriptionStatus.TRIALING, trial_end=end, now=NOW) == 3
    assert days_left(status=SubscriptionStatus.TRIALING, trial_end=NOW, now=NOW + DAY) == 0
    # trial_end stays set after a trial ended: only a trialing subscription has days left
    assert days_left(status=SubscriptionStatus.ACTIVE, trial_end=end, now=NOW) is None


def test_the_subscription_clock_is_the_newest_stripe_time_seen_when_ahead_of_ours() -> None:
    assert stripe_now(NOW, []) == NOW
    assert stripe_now(NOW, [NOW - DAY]) == NOW
    assert stripe_now(NOW, [NOW + 11 * DAY, NOW + DAY]) == NOW + 11 * DAY


def test_trial_ends_in_days_reads_the_test_clock_from_the_last_event() -> None:
    account = trialing()
    assert account.trial_ends_in_days(NOW) == 14
    account.last_applied["sub_1"] = AppliedMark(created=NOW + 11 * DAY, event_id="evt_1")
    assert account.trial_ends_in_days(NOW) == 3


def test_convert_now_needs_the_owner_a_trial_and_a_payment_method() -> None:
    with pytest.raises(Forbidden):
        trialing(has_payment_method=True).end_trial_now(MEMBER)
    with pytest.raises(Conflict) as no_card:
        trialing().end_trial_now(OWNER)
    assert no_card.value.code == "payment_method_required"
    with pytest.raises(Conflict) as active:
        trialing(status=SubscriptionStatus.ACTIVE, has_payment_method=True).end_trial_now(OWNER)
    assert active.value.code == "not_trialing"
    assert trialing(has_payment_method=True).end_trial_now(OWNER) == "sub_1"


def test_an_extension_moves_the_end_within_the_cap() -> None:
    decided = decide_extension(
        status=SubscriptionStatus.TRIALING,
        trial_end=NOW,
        extend_days=7,
        reason="prospect",
        already_extended_days=23,
        max_extension_days=30,
    )
    assert (decided.previous_trial_end, decided.new_trial_end) == (NOW, NOW + 7 * DAY)
    with pytest.raises(Conflict) as capped:
        decide_extension(
            status=SubscriptionStatus.TRIALING,
            trial_end=NOW,
            extend_days=8,
            reason="",
            already_extended_days=23,
            max_extension_days=30,
        )
    assert capped.value.code == "trial_extension_cap"


@pytest.mark.parametrize("days", [0, -1, 31])
def test_an_extension_outside_1_to_30_days_is_a_bad_request(days: int) -> None:
    with pytest.raises(RuleViolated):
        decide_extension(
            status=SubscriptionStatus.TRIALING,
            trial_end=NOW,
            extend_days=days,
            reason="",
            already_extended_days=0,
            max_extension_days=30,
        )


@pytest.mark.parametrize("status", [SubscriptionStatus.ACTIVE, SubscriptionStatus.PAUSED])
def test_only_a_trial_is_extended(status: SubscriptionStatus) -> None:
    with pytest.raises(Conflict) as refused:
        decide_extension(
            status=status,
            trial_end=NOW,
            extend_days=3,
            reason="",
            already_extended_days=0,
            max_extension_days=30,
        )
    assert refused.value.code == "not_trialing"


def test_payment_method_rules() -> None:
    assert can_charge(subscription_default=True, customer_default=None) is True
    assert can_charge(subscription_default=False, customer_default=True) is True
    assert can_charge(subscription_default=False, customer_default=None) is None
    assert collection_paused({"behavior": "void", "resumes_at": None})
    assert not collection_paused(None)


def test_an_unknown_payment_method_keeps_what_the_account_knew() -> None:
    account = trialing(has_payment_method=True)
    snapshot = SubscriptionSnapshot(
        subscription_id="sub_1",
        customer_id="cus_1",
        plan=PlanType.TEAM,
        status=SubscriptionStatus.TRIALING,
        trial_end=NOW + 14 * DAY,
    )
    account.apply_authoritative(snapshot)
    assert account.has_paid_access
    assert account.has_payment_method
    other = SubscriptionSnapshot(
        subscription_id="sub_2", customer_id="cus_1", plan=PlanType.TEAM, status=snapshot.status
    )
    account.apply_authoritative(other)
    assert not account.has_payment_method  # another subscription: not known for it
