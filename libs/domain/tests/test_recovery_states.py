"""Issue 18: a failed payment that waits for the customer (3-D Secure) is marked, in
whatever order Stripe's two events of the attempt arrive, and a later declined attempt
drops the mark (the pages then offer "Update card" instead of "Confirm payment").
And why a subscription ended: Stripe's dunning, or a request."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from billing_domain.ended_subscription import EndedReason, EndedSubscription
from billing_domain.money import Money
from billing_domain.ordering import AppliedMark, ApplyOutcome
from billing_domain.payment_failure import PaymentFailure
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import SubscriptionSnapshot

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _account() -> BillingAccount:
    return BillingAccount(
        tenant_id="t1",
        stripe_customer_id="cus_1",
        stripe_subscription_id="sub_1",
        plan=PlanType.TEAM,
        status=SubscriptionStatus.PAST_DUE,
    )


def _failed(attempt: int = 1, invoice: str = "in_1") -> PaymentFailure:
    return PaymentFailure(
        amount_due=Money(amount=2900, currency="usd"),
        hosted_invoice_url="https://invoice.example/in_1",
        next_payment_attempt=T0 + timedelta(days=3),
        invoice_id=invoice,
        attempt_count=attempt,
    )


def _action(attempt: int = 1, invoice: str = "in_1") -> PaymentFailure:
    return replace(_failed(attempt, invoice), next_payment_attempt=None, action_required=True)


def _mark(seconds: int) -> AppliedMark:
    return AppliedMark(created=T0 + timedelta(seconds=seconds), event_id=f"evt_{seconds}")


def test_payment_failed_then_action_required_marks_the_failure() -> None:
    account = _account()
    account.record_payment_failed(_failed(), mark=_mark(1))
    account.pull_events()
    assert account.record_payment_action_required(_action(), at=T0) is ApplyOutcome.APPLIED
    failure = account.payment_failure
    assert failure is not None
    assert failure.action_required
    assert failure.next_payment_attempt == T0 + timedelta(days=3)  # the rest is kept
    assert account.pull_events() == []  # no second "payment failed" mail
    assert account.record_payment_action_required(_action(), at=T0) is ApplyOutcome.DUPLICATE


def test_action_required_first_then_payment_failed_of_the_same_attempt_keeps_the_mark() -> None:
    account = _account()
    assert account.record_payment_action_required(_action(), at=T0) is ApplyOutcome.APPLIED
    account.record_payment_failed(_failed(), mark=_mark(1))
    failure = account.payment_failure
    assert failure is not None
    assert failure.action_required
    assert failure.since == T0
    assert failure.next_payment_attempt == T0 + timedelta(days=3)


def test_a_later_declined_attempt_drops_the_mark() -> None:
    account = _account()
    account.record_payment_failed(_failed(1), mark=_mark(1))
    account.record_payment_action_required(_action(1), at=T0)
    account.record_payment_failed(_failed(2), mark=_mark(100))
    failure = account.payment_failure
    assert failure is not None
    assert not failure.action_required
    assert failure.attempt_count == 2
    # a stale action-required of the first attempt does not bring it back
    assert account.record_payment_action_required(_action(1), at=T0) is ApplyOutcome.DUPLICATE
    assert not account.payment_failure.action_required  # type: ignore[union-attr]


def test_after_the_invoice_was_paid_a_late_action_required_changes_nothing() -> None:
    account = _account()
    account.record_payment_failed(_failed(), mark=_mark(1))
    account.record_invoice_paid(
        invoice_id="in_1", amount_paid=Money(amount=2900, currency="usd"), mark=_mark(5)
    )
    assert account.record_payment_action_required(_action(), at=T0) is ApplyOutcome.DUPLICATE
    assert account.payment_failure is None


def test_an_ended_subscription_gets_no_failure_from_it() -> None:
    account = _account()
    account.status = SubscriptionStatus.CANCELED
    assert account.record_payment_action_required(_action(), at=T0) is ApplyOutcome.DUPLICATE
    assert account.payment_failure is None


def _snapshot(status: SubscriptionStatus, *, cancel: bool = False) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(
        subscription_id="sub_1",
        customer_id="cus_1",
        plan=PlanType.TEAM,
        status=status,
        cancel_at_period_end=cancel,
    )


def test_an_end_after_failed_payments_is_told_apart_from_a_requested_one() -> None:
    dunned = _account()
    dunned.record_payment_failed(_failed(), mark=_mark(1))
    dunned.record_invoice_closed_unpaid(invoice_id="in_1", uncollectible=True, mark=_mark(2))
    dunned.apply_authoritative(_snapshot(SubscriptionStatus.CANCELED))
    assert dunned.ended == EndedSubscription(reason=EndedReason.PAYMENT_FAILED, plan=PlanType.TEAM)
    assert dunned.plan is PlanType.FREE

    asked = _account()
    asked.apply_authoritative(_snapshot(SubscriptionStatus.ACTIVE, cancel=True))
    asked.apply_authoritative(_snapshot(SubscriptionStatus.CANCELED))
    assert asked.ended == EndedSubscription(
        reason=EndedReason.CANCELLATION_REQUESTED, plan=PlanType.TEAM
    )
    asked.apply_authoritative(_snapshot(SubscriptionStatus.ACTIVE))  # subscribes again
    assert asked.ended is None
