from datetime import UTC, datetime, timedelta

import pytest

from billing_domain.errors import Conflict, RuleViolated
from billing_domain.money import Money
from billing_domain.payment_failure import PaymentFailure
from billing_domain.payment_recovery import (
    QUEUE_STATUSES,
    ActionOutcome,
    PaymentAttempt,
    days_past_due,
    invoice_due,
    is_in_queue,
    parse_currency,
    parse_queue_status,
)
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def account(status: SubscriptionStatus, *, invoice: str | None = "in_1") -> BillingAccount:
    failure = None
    if invoice is not None:
        failure = PaymentFailure(amount_due=Money(amount=2900, currency="usd"), invoice_id=invoice)
    return BillingAccount(
        tenant_id="t",
        stripe_subscription_id="sub_1",
        plan=PlanType.TEAM,
        status=status,
        payment_failure=failure,
    )


@pytest.mark.parametrize("status", list(SubscriptionStatus))
def test_the_queue_holds_exactly_the_failing_statuses(status: SubscriptionStatus) -> None:
    expected = status.value in {"past_due", "unpaid", "incomplete", "paused"}
    assert is_in_queue(account(status)) is expected
    if expected:
        assert parse_queue_status(status.value) is status
    else:
        with pytest.raises(RuleViolated):
            parse_queue_status(status.value)


@pytest.mark.parametrize("value", ["", "PAST_DUE", "past due", "past_due ", "all", "x" * 40])
def test_unknown_status_filters_are_refused(value: str) -> None:
    with pytest.raises(RuleViolated) as refused:
        parse_queue_status(value)
    assert refused.value.code == "unknown_status"
    assert set(QUEUE_STATUSES) == {
        SubscriptionStatus.PAST_DUE,
        SubscriptionStatus.UNPAID,
        SubscriptionStatus.INCOMPLETE,
        SubscriptionStatus.PAUSED,
    }


@pytest.mark.parametrize(("value", "expected"), [("usd", "usd"), ("EUR", "eur"), (" gbp ", "gbp")])
def test_currency_filters_are_lower_cased(value: str, expected: str) -> None:
    assert parse_currency(value) == expected


@pytest.mark.parametrize("value", ["", "us", "usdd", "u$d", "12a", "€ur", "us\x00"])
def test_bad_currency_filters_are_refused(value: str) -> None:
    with pytest.raises(RuleViolated) as refused:
        parse_currency(value)
    assert refused.value.code == "unknown_currency"


def test_days_past_due_count_whole_days_from_the_first_failure() -> None:
    assert days_past_due(None, NOW) is None
    assert days_past_due(NOW, NOW) == 0
    assert days_past_due(NOW - timedelta(days=3, hours=23), NOW) == 3
    assert days_past_due(NOW - timedelta(days=4), NOW) == 4
    assert days_past_due(NOW + timedelta(hours=1), NOW) == 0  # Stripe's clock ahead of ours


def test_only_a_recorded_failed_invoice_is_due() -> None:
    assert invoice_due(account(SubscriptionStatus.PAST_DUE)).invoice_id == "in_1"
    assert invoice_due(account(SubscriptionStatus.UNPAID)).invoice_id == "in_1"
    for refused in (
        account(SubscriptionStatus.PAUSED, invoice=None),
        account(SubscriptionStatus.ACTIVE, invoice=None),
        account(SubscriptionStatus.CANCELED),
    ):
        with pytest.raises(Conflict) as conflict:
            invoice_due(refused)
        assert conflict.value.code == "nothing_due"


def test_each_stripe_answer_has_its_audit_outcome() -> None:
    assert {attempt.outcome for attempt in PaymentAttempt} == {
        ActionOutcome.STRIPE_PAID,
        ActionOutcome.STRIPE_DECLINED,
        ActionOutcome.STRIPE_REQUIRES_ACTION,
    }
