from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billing_domain import account_events as ev
from billing_domain.errors import RuleViolated
from billing_domain.money import Money
from billing_domain.ordering import AppliedMark, ApplyOutcome
from billing_domain.payment_failure import PaymentFailure
from billing_domain.plans import PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
PERIOD_END = T0 + timedelta(days=30)


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


def mark(seconds: int, event_id: str | None = None) -> AppliedMark:
    return AppliedMark(
        created=T0 + timedelta(seconds=seconds), event_id=event_id or f"evt_{seconds}"
    )


def active_team() -> BillingAccount:
    account = BillingAccount.free("t1")
    assert account.apply_stripe_snapshot(snap(), mark(0)) is ApplyOutcome.APPLIED
    account.pull_events()
    return account


def failure_of(account: BillingAccount) -> PaymentFailure | None:
    return account.payment_failure  # read through a call: mypy keeps no stale narrowing


def event_types(account: BillingAccount) -> list[type]:
    return [type(e) for e in account.pull_events()]


def test_first_subscription_activates_the_tenant() -> None:
    account = BillingAccount.free("t1")
    outcome = account.apply_stripe_snapshot(snap(status=SubscriptionStatus.TRIALING), mark(0))
    assert outcome is ApplyOutcome.APPLIED
    assert account.plan is PlanType.TEAM
    assert account.stripe_subscription_id == "sub_1"
    assert account.stripe_customer_id == "cus_1"
    assert account.has_paid_access
    assert account.last_applied == {"sub_1": mark(0)}
    assert account.events == [
        ev.SubscriptionActivated(
            tenant_id="t1",
            subscription_id="sub_1",
            plan=PlanType.TEAM,
            status=SubscriptionStatus.TRIALING,
        ),
        ev.EntitlementsChanged(
            tenant_id="t1", subscription_id="sub_1", from_plan=PlanType.FREE, to_plan=PlanType.TEAM
        ),
    ]


def test_the_same_state_again_records_nothing() -> None:
    account = active_team()
    assert account.apply_stripe_snapshot(snap(), mark(5)) is ApplyOutcome.APPLIED
    assert account.events == []


def test_ordering_guard_outcomes() -> None:
    account = active_team()
    assert account.apply_stripe_snapshot(snap(), mark(0)) is ApplyOutcome.DUPLICATE
    assert account.apply_stripe_snapshot(snap(plan=PlanType.SOLO), mark(-1)) is ApplyOutcome.STALE
    assert account.apply_stripe_snapshot(snap(plan=PlanType.SOLO), mark(0, "evt_other")) is (
        ApplyOutcome.TIE
    )
    assert account.plan is PlanType.TEAM
    assert account.last_applied["sub_1"] == mark(0)
    assert account.events == []


def test_a_tie_is_settled_by_the_authoritative_read() -> None:
    account = active_team()
    tied = mark(0, "evt_other")
    assert account.apply_stripe_snapshot(snap(plan=PlanType.SOLO), tied) is ApplyOutcome.TIE
    fresh = snap(plan=PlanType.SOLO, cancel_at_period_end=True)
    assert account.apply_authoritative(fresh, mark=tied) is ApplyOutcome.APPLIED
    assert account.plan is PlanType.SOLO
    assert account.cancel_at_period_end
    assert account.last_applied["sub_1"] == tied
    assert event_types(account) == [
        ev.SubscriptionPlanChanged,
        ev.EntitlementsChanged,
        ev.SubscriptionCancelScheduled,
    ]


def test_the_authoritative_read_never_moves_the_watermark_back() -> None:
    account = active_team()
    account.apply_stripe_snapshot(snap(), mark(10))
    account.apply_authoritative(snap(), mark=mark(3))
    assert account.last_applied["sub_1"] == mark(10)


def test_cancel_schedule_and_resume_from_stripe() -> None:
    account = active_team()
    account.apply_stripe_snapshot(snap(cancel_at_period_end=True), mark(1))
    assert account.events == [
        ev.SubscriptionCancelScheduled(
            tenant_id="t1", subscription_id="sub_1", cancel_at=PERIOD_END
        )
    ]
    account.pull_events()
    account.apply_stripe_snapshot(snap(cancel_at_period_end=False), mark(2))
    assert event_types(account) == [ev.SubscriptionResumed]


@pytest.mark.parametrize(
    "status", [SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED]
)
def test_an_ended_subscription_drops_the_tenant_to_free(status: SubscriptionStatus) -> None:
    account = active_team()
    account.payment_failure = PaymentFailure(amount_due=Money(amount=900, currency="usd"))
    account.apply_stripe_snapshot(
        snap(
            status=status,
            cancel_at_period_end=True,
            pending_plan=PendingPlanChange(plan=PlanType.SOLO, effective_at=PERIOD_END),
        ),
        mark(1),
    )
    assert account.plan is PlanType.FREE
    assert account.status is status
    assert not account.cancel_at_period_end
    assert account.pending_plan is None
    assert failure_of(account) is None
    assert account.events == [
        ev.SubscriptionCanceled(
            tenant_id="t1", subscription_id="sub_1", previous_plan=PlanType.TEAM, status=status
        ),
        ev.EntitlementsChanged(
            tenant_id="t1", subscription_id="sub_1", from_plan=PlanType.TEAM, to_plan=PlanType.FREE
        ),
    ]
    account.pull_events()
    account.apply_stripe_snapshot(snap(status=status), mark(2))
    assert account.events == []


def test_a_late_event_of_an_old_subscription_does_not_end_the_new_one() -> None:
    account = active_team()
    account.apply_stripe_snapshot(snap(subscription_id="sub_2", plan=PlanType.ENTERPRISE), mark(5))
    account.pull_events()
    old_end = snap(subscription_id="sub_1", status=SubscriptionStatus.CANCELED)
    assert account.apply_stripe_snapshot(old_end, mark(9)) is ApplyOutcome.SUPERSEDED
    assert account.apply_authoritative(old_end) is ApplyOutcome.SUPERSEDED
    assert account.stripe_subscription_id == "sub_2"
    assert account.plan is PlanType.ENTERPRISE
    assert account.events == []


def test_a_new_subscription_after_the_end_activates_again() -> None:
    account = active_team()
    account.apply_stripe_snapshot(snap(status=SubscriptionStatus.CANCELED), mark(1))
    account.pull_events()
    account.apply_stripe_snapshot(snap(subscription_id="sub_2", plan=PlanType.SOLO), mark(2))
    assert event_types(account) == [ev.SubscriptionActivated, ev.EntitlementsChanged]
    assert account.plan is PlanType.SOLO


def test_status_changes_are_updates_and_losing_access_is_one_too() -> None:
    account = active_team()
    account.apply_stripe_snapshot(snap(status=SubscriptionStatus.PAST_DUE), mark(1))
    assert event_types(account) == [ev.SubscriptionUpdated]
    account.apply_stripe_snapshot(snap(status=SubscriptionStatus.UNPAID), mark(2))
    assert event_types(account) == [ev.EntitlementsChanged, ev.SubscriptionUpdated]
    assert not account.has_paid_access
    account.apply_stripe_snapshot(snap(status=SubscriptionStatus.ACTIVE), mark(3))
    assert event_types(account) == [ev.SubscriptionActivated, ev.EntitlementsChanged]


def test_renewal_moves_the_period_end() -> None:
    account = active_team()
    later = PERIOD_END + timedelta(days=30)
    account.apply_stripe_snapshot(snap(current_period_end=later), mark(1))
    (event,) = account.pull_events()
    assert isinstance(event, ev.SubscriptionUpdated)
    assert event.current_period_end == later


def test_scheduled_downgrade_then_taking_effect() -> None:
    account = active_team()
    pending = PendingPlanChange(plan=PlanType.SOLO, effective_at=PERIOD_END)
    account.apply_stripe_snapshot(snap(pending_plan=pending), mark(1))
    (scheduled,) = account.pull_events()
    assert isinstance(scheduled, ev.SubscriptionPlanChanged)
    assert scheduled.effective is PlanChangeEffective.PERIOD_END
    assert scheduled.to_plan is PlanType.SOLO
    account.apply_stripe_snapshot(
        snap(plan=PlanType.SOLO, current_period_end=PERIOD_END + timedelta(days=30)), mark(2)
    )
    events = account.pull_events()
    assert [type(e) for e in events] == [
        ev.SubscriptionPlanChanged,
        ev.EntitlementsChanged,
        ev.SubscriptionUpdated,
    ]
    assert isinstance(events[0], ev.SubscriptionPlanChanged)
    assert events[0].effective is PlanChangeEffective.NOW
    assert account.pending_plan is None


def test_a_withdrawn_downgrade_is_reported() -> None:
    account = active_team()
    pending = PendingPlanChange(plan=PlanType.SOLO, effective_at=PERIOD_END)
    account.apply_stripe_snapshot(snap(pending_plan=pending), mark(1))
    account.pull_events()
    account.apply_stripe_snapshot(snap(), mark(2))
    assert event_types(account) == [ev.PendingPlanChangeDropped]


# -- payment failures -------------------------------------------------------------


def failure(invoice_id: str = "in_1", amount: int = 2900) -> PaymentFailure:
    return PaymentFailure(
        amount_due=Money(amount=amount, currency="usd"),
        hosted_invoice_url="https://invoice.stripe.test/in_1",
        next_payment_attempt=T0 + timedelta(days=3),
        invoice_id=invoice_id,
    )


def test_payment_failure_is_set_then_cleared_by_paying_that_invoice() -> None:
    account = active_team()
    assert account.record_payment_failed(failure(), mark=mark(1), object_id="in_1") is (
        ApplyOutcome.APPLIED
    )
    assert account.payment_failure == replace(failure(), since=mark(1).created)
    assert event_types(account) == [ev.PaymentFailed]
    account.record_payment_failed(failure(), mark=mark(2))
    assert account.events == []  # same failure: nothing new
    outcome = account.record_invoice_paid(
        invoice_id="in_1", amount_paid=Money(amount=2900, currency="usd"), mark=mark(3)
    )
    assert outcome is ApplyOutcome.APPLIED
    assert failure_of(account) is None
    assert account.events == [
        ev.InvoicePaid(
            tenant_id="t1",
            invoice_id="in_1",
            amount_paid=Money(amount=2900, currency="usd"),
            cleared_payment_failure=True,
            failed_since=mark(1).created,
            paid_at=mark(3).created,
        )
    ]
    paid = account.events[0]
    assert isinstance(paid, ev.InvoicePaid)
    assert paid.failure_resolved_after == 2.0


def test_a_failure_keeps_its_start_through_stripes_retries_and_a_new_invoice_restarts_it() -> None:
    account = active_team()
    account.record_payment_failed(failure("in_1"), mark=mark(10), object_id="in_1")
    retried = replace(failure("in_1"), next_payment_attempt=T0 + timedelta(days=5))
    account.record_payment_failed(retried, mark=mark(20), object_id="in_1")
    assert account.payment_failure == replace(retried, since=mark(10).created)
    account.record_payment_failed(failure("in_2"), mark=mark(30), object_id="in_2")
    assert account.payment_failure == replace(failure("in_2"), since=mark(30).created)
    account.pull_events()
    account.record_invoice_paid(
        invoice_id="in_2", amount_paid=Money(amount=2900, currency="usd"), mark=mark(100)
    )
    paid = account.pull_events()[0]
    assert isinstance(paid, ev.InvoicePaid)
    assert paid.failure_resolved_after == 70.0


def test_time_to_resolve_is_unknown_without_stripe_times() -> None:
    account = active_team()
    account.record_payment_failed(failure("in_1"))  # no mark: no start time
    account.record_invoice_paid(invoice_id="in_1", amount_paid=Money(amount=1, currency="usd"))
    paid = account.pull_events()[-1]
    assert isinstance(paid, ev.InvoicePaid)
    assert paid.cleared_payment_failure is True
    assert paid.failure_resolved_after is None


def test_paying_another_invoice_keeps_the_failure() -> None:
    account = active_team()
    account.record_payment_failed(failure("in_1"))
    account.record_invoice_paid(invoice_id="in_2", amount_paid=Money(amount=1, currency="usd"))
    assert account.payment_failure == failure("in_1")


def test_a_late_failure_does_not_undo_the_payment() -> None:
    account = active_team()
    account.record_invoice_paid(
        invoice_id="in_1", amount_paid=Money(amount=2900, currency="usd"), mark=mark(10)
    )
    assert account.record_payment_failed(failure(), mark=mark(5)) is ApplyOutcome.STALE
    assert failure_of(account) is None


def test_ordered_payment_updates_need_an_object_id() -> None:
    account = active_team()
    anonymous = PaymentFailure(amount_due=Money(amount=1, currency="usd"))
    with pytest.raises(RuleViolated):
        account.record_payment_failed(anonymous, mark=mark(1))


def test_a_pending_change_to_the_current_plan_is_no_pending_change() -> None:
    account = active_team()
    same = PendingPlanChange(plan=PlanType.TEAM, effective_at=PERIOD_END)
    account.apply_stripe_snapshot(snap(pending_plan=same, cancel_at_period_end=True), mark(1))
    assert account.pending_plan is None
    assert event_types(account) == [ev.SubscriptionCancelScheduled]


@pytest.mark.parametrize("uncollectible", [False, True])
def test_a_voided_or_written_off_invoice_clears_its_failure_of_an_unpaid_subscription(
    uncollectible: bool,
) -> None:
    account = active_team()
    account.apply_stripe_snapshot(snap(status=SubscriptionStatus.UNPAID), mark(1))
    account.record_payment_failed(failure("in_1"), mark=mark(2))
    account.pull_events()
    outcome = account.record_invoice_closed_unpaid(
        invoice_id="in_1", uncollectible=uncollectible, mark=mark(3)
    )
    assert outcome is ApplyOutcome.APPLIED
    assert failure_of(account) is None
    assert account.status is SubscriptionStatus.UNPAID  # the status is Stripe's to change
    assert account.pull_events() == [
        ev.InvoiceClosedUnpaid(
            tenant_id="t1",
            invoice_id="in_1",
            uncollectible=uncollectible,
            cleared_payment_failure=True,
        )
    ]


def test_closing_another_invoice_keeps_the_failure_and_a_late_failure_stays_closed() -> None:
    account = active_team()
    account.record_payment_failed(failure("in_1"), mark=mark(2))
    account.record_invoice_closed_unpaid(invoice_id="in_2", uncollectible=False, mark=mark(3))
    assert failure_of(account) == replace(failure("in_1"), since=mark(2).created)
    account.record_invoice_closed_unpaid(invoice_id="in_1", uncollectible=True, mark=mark(10))
    assert account.record_payment_failed(failure("in_1"), mark=mark(5)) is ApplyOutcome.STALE
    assert failure_of(account) is None


def test_invoice_events_in_the_same_second_settle_without_a_re_read() -> None:
    """A test clock stamps a whole renewal with its frozen time: the failure, the
    payment and the closing of one invoice share ``created``. Paid and closed are
    final and win the tie; a failure loses it once the invoice was paid or closed,
    and another attempt of an open failure still counts."""
    account = active_team()
    assert (
        account.record_payment_failed(failure(), mark=mark(5, "evt_fail"), object_id="in_1")
        is ApplyOutcome.APPLIED
    )
    retried = replace(failure(), attempt_count=2)
    assert (
        account.record_payment_failed(retried, mark=mark(5, "evt_retry"), object_id="in_1")
        is ApplyOutcome.APPLIED
    )
    paid = account.record_invoice_paid(
        invoice_id="in_1", amount_paid=Money(amount=2900, currency="usd"), mark=mark(5, "evt_paid")
    )
    assert paid is ApplyOutcome.APPLIED
    assert failure_of(account) is None
    late = account.record_payment_failed(failure(), mark=mark(5, "evt_late"), object_id="in_1")
    assert late is ApplyOutcome.TIE
    assert failure_of(account) is None
    account.record_payment_failed(failure("in_2"), mark=mark(7, "evt_f2"), object_id="in_2")
    closed = account.record_invoice_closed_unpaid(
        invoice_id="in_2", uncollectible=True, mark=mark(7, "evt_void")
    )
    assert closed is ApplyOutcome.APPLIED
    assert failure_of(account) is None
