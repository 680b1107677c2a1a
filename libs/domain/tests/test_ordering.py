from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_domain.errors import RuleViolated
from billing_domain.ordering import AppliedMark, ApplyOutcome, judge, later_mark
from billing_domain.plans import PAID_PLANS, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot

pytestmark = pytest.mark.unit

T0 = datetime(2026, 5, 1, tzinfo=UTC)
PERIOD_ENDS = [T0 + timedelta(days=30), T0 + timedelta(days=60)]


def at(seconds: int, event_id: str) -> AppliedMark:
    return AppliedMark(created=T0 + timedelta(seconds=seconds), event_id=event_id)


def test_judge() -> None:
    last = at(10, "evt_a")
    assert judge(None, at(0, "evt_b")) is ApplyOutcome.APPLIED
    assert judge(last, at(10, "evt_a")) is ApplyOutcome.DUPLICATE
    assert judge(last, at(9, "evt_b")) is ApplyOutcome.STALE
    assert judge(last, at(10, "evt_b")) is ApplyOutcome.TIE
    assert judge(last, at(11, "evt_b")) is ApplyOutcome.APPLIED
    assert ApplyOutcome.APPLIED.changed_state
    assert not ApplyOutcome.TIE.changed_state


def test_marks_from_stripe_unix_seconds() -> None:
    assert AppliedMark.from_unix(0, "evt_1") == AppliedMark(
        created=datetime(1970, 1, 1, tzinfo=UTC), event_id="evt_1"
    )
    with pytest.raises(RuleViolated):
        AppliedMark(created=datetime(2026, 1, 1), event_id="evt_1")


marks = st.builds(
    at, st.integers(min_value=0, max_value=5), st.sampled_from(["evt_a", "evt_b", "evt_c"])
)


@settings(max_examples=100, deadline=None)
@given(st.none() | marks, marks)
def test_the_watermark_never_moves_back(last: AppliedMark | None, incoming: AppliedMark) -> None:
    after = later_mark(last, incoming)
    if last is not None:
        assert after.created >= last.created
    assert after.created >= incoming.created or after == last
    if judge(last, incoming) is ApplyOutcome.APPLIED:
        assert after == incoming


snapshots = st.builds(
    SubscriptionSnapshot,
    subscription_id=st.just("sub_1"),
    customer_id=st.just("cus_1"),
    plan=st.sampled_from(PAID_PLANS),
    status=st.sampled_from(SubscriptionStatus),
    cancel_at_period_end=st.booleans(),
    current_period_end=st.sampled_from(PERIOD_ENDS),
    trial_end=st.sampled_from([None, T0 + timedelta(days=14)]),
    pending_plan=st.sampled_from(
        [None, PendingPlanChange(plan=PlanType.SOLO, effective_at=PERIOD_ENDS[0])]
    ),
)


def expected_state(snapshot: SubscriptionSnapshot) -> object:
    account = BillingAccount.free("t1")
    account.apply_authoritative(snapshot)
    return account.state


@settings(max_examples=120, deadline=None)
@given(
    history=st.lists(
        st.tuples(snapshots, st.integers(min_value=0, max_value=1)), min_size=1, max_size=6
    ),
    data=st.data(),
)
def test_no_delivery_order_loses_the_latest_state(
    history: list[tuple[SubscriptionSnapshot, int]], data: st.DataObject
) -> None:
    """Stripe emits a history (created times may tie); we receive it in any order,
    with duplicates, re-reading Stripe on a tie. We always end on Stripe's state."""
    emitted: list[tuple[SubscriptionSnapshot, AppliedMark]] = []
    seconds = 0
    account = BillingAccount.free("t1")
    undelivered: list[int] = []
    redeliveries = 0

    def deliver(index: int) -> None:
        snapshot, mark = emitted[index]
        before, recorded = account.state, len(account.events)
        if account.apply_stripe_snapshot(snapshot, mark) is ApplyOutcome.TIE:
            stripe_now = emitted[-1][0]  # a re-read sees everything emitted so far
            assert account.apply_authoritative(stripe_now, mark=mark) is ApplyOutcome.APPLIED
        changed = account.state != before
        new_events = len(account.events) > recorded
        assert not new_events or changed
        both_ended = before.status.is_ended and account.status.is_ended
        assert new_events or not changed or both_ended

    while len(emitted) < len(history) or undelivered:
        if len(emitted) < len(history) and (not undelivered or data.draw(st.booleans())):
            snapshot, gap = history[len(emitted)]
            seconds += gap
            emitted.append((snapshot, at(seconds, f"evt_{len(emitted)}")))
            undelivered.append(len(emitted) - 1)
        elif redeliveries < 3 and data.draw(st.integers(0, 4)) == 0:
            redeliveries += 1
            deliver(data.draw(st.integers(0, len(emitted) - 1)))
        else:
            deliver(undelivered.pop(data.draw(st.integers(0, len(undelivered) - 1))))

    assert account.state == expected_state(history[-1][0])
    assert account.last_applied["sub_1"].created == emitted[-1][1].created
