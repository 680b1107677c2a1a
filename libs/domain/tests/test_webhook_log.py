from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_domain.errors import Conflict, RuleViolated
from billing_domain.webhook_log import (
    NOTE_IGNORED,
    FailureClass,
    RetryPolicy,
    WebhookEventRecord,
    WebhookEventStatus,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
S = WebhookEventStatus
TRANSIENT, PERMANENT = FailureClass.TRANSIENT, FailureClass.PERMANENT


def new_record() -> WebhookEventRecord:
    return WebhookEventRecord.received(event_id="evt_1", event_type="invoice.paid", now=T0)


def waiting_state(
    record: WebhookEventRecord,
) -> tuple[WebhookEventStatus, str | None, datetime | None]:
    return record.status, record.note, record.next_attempt_at


def test_a_received_event_is_pending_and_due_at_once() -> None:
    record = new_record()
    assert record.status is S.PENDING
    assert record.retry_count == 0
    assert record.next_attempt_at == T0
    assert record.is_due(T0)
    assert record.finished_at is None


def test_backoff_doubles_from_two_seconds() -> None:
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.base_seconds) == (3, 2)
    assert [policy.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert RetryPolicy(base_seconds=1).backoff(3) == timedelta(seconds=4)
    with pytest.raises(RuleViolated):
        policy.backoff(0)
    with pytest.raises(RuleViolated):
        RetryPolicy(max_attempts=-1)
    with pytest.raises(RuleViolated):
        RetryPolicy(base_seconds=0)


def test_failures_wait_2_4_8_seconds_then_fail() -> None:
    record = new_record()
    waits = []
    now = T0
    for _ in range(3):
        record.mark_failed_attempt("db down", now)
        assert record.status is S.RETRYING
        assert record.next_attempt_at is not None
        assert not record.is_due(now)
        waits.append((record.next_attempt_at - now).total_seconds())
        now = record.next_attempt_at
    assert waits == [2, 4, 8]
    assert record.retry_count == 3
    record.mark_failed_attempt("still down", now)
    assert record.status is S.FAILED
    assert record.retry_count == 3
    assert record.next_attempt_at is None
    assert record.last_error == "still down"
    assert record.finished_at == now


def test_a_permanent_failure_fails_after_the_fast_lane_and_keeps_its_class() -> None:
    record = new_record()
    now = T0
    for _ in range(3):
        record.mark_failed_attempt("unknown price", now, failure=PERMANENT)
        assert record.next_attempt_at is not None
        now = record.next_attempt_at
    assert now - T0 == timedelta(seconds=14)
    record.mark_failed_attempt("unknown price", now, failure=PERMANENT)
    assert (record.status, record.last_error_class) == (S.FAILED, PERMANENT)


def test_a_transient_failure_goes_on_to_the_slow_lane_until_the_horizon() -> None:
    policy = RetryPolicy(slow_max_seconds=3600, horizon=timedelta(hours=72))
    record = new_record()
    now = T0
    waits: list[float] = []
    while True:
        record.mark_failed_attempt("Stripe 500", now, policy, failure=TRANSIENT)
        if record.status is S.FAILED:
            break
        assert record.status is S.RETRYING
        assert record.last_error_class is TRANSIENT
        assert record.next_attempt_at is not None
        waits.append((record.next_attempt_at - now).total_seconds())
        now = record.next_attempt_at
    assert waits[:9] == [2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert max(waits) == 3600
    assert now == T0 + timedelta(hours=72)  # the last attempt is exactly at the horizon
    assert record.finished_at == now
    assert record.retry_count == len(waits)


def test_a_transient_event_recovers_on_the_slow_lane() -> None:
    """Stripe answers 500 for ten minutes of the event's age: still retrying, then done."""
    record = new_record()
    now = T0
    while now < T0 + timedelta(minutes=10):
        record.mark_failed_attempt("Stripe 500", now, failure=TRANSIENT)
        assert record.status is S.RETRYING
        assert record.next_attempt_at is not None
        now = record.next_attempt_at
    record.mark_processed(now)
    assert record.status is S.PROCESSED
    assert now - T0 < timedelta(minutes=20)  # the wait after an outage stays proportionate


def test_a_transient_failure_after_the_horizon_fails_once_the_fast_lane_is_spent() -> None:
    record = new_record()
    late = T0 + timedelta(hours=80)
    for _ in range(3):
        record.mark_failed_attempt("db down", late, failure=TRANSIENT)
        assert record.status is S.RETRYING
    record.mark_failed_attempt("db down", late, failure=TRANSIENT)
    assert record.status is S.FAILED


def test_the_slow_lane_is_configurable_and_checked() -> None:
    policy = RetryPolicy(slow_max_seconds=10, horizon=timedelta(seconds=30))
    assert [policy.backoff(n).total_seconds() for n in (3, 4, 5, 60, 10_000)] == [8, 10, 10, 10, 10]
    with pytest.raises(RuleViolated):
        RetryPolicy(slow_max_seconds=1)
    with pytest.raises(RuleViolated):
        RetryPolicy(horizon=timedelta(seconds=-1))


def test_an_event_put_back_is_due_at_once_and_nothing_is_counted() -> None:
    record = new_record()
    record.mark_failed_attempt("db down", T0, failure=TRANSIENT)
    record.put_back(T0 + timedelta(seconds=1))
    assert (record.status, record.retry_count) == (S.RETRYING, 1)
    assert record.next_attempt_at == T0 + timedelta(seconds=1)
    record.mark_processed(T0 + timedelta(seconds=1))
    with pytest.raises(Conflict):
        record.put_back(T0)


def test_max_attempts_is_configurable() -> None:
    record = new_record()
    record.mark_failed_attempt("boom", T0, RetryPolicy(max_attempts=0))
    assert record.status is S.FAILED


def test_success_after_a_retry() -> None:
    record = new_record()
    record.mark_failed_attempt("boom", T0)
    record.mark_processed(T0 + timedelta(seconds=2))
    assert record.status is S.PROCESSED
    assert record.next_attempt_at is None
    assert record.retry_count == 1
    assert record.finished_at == T0 + timedelta(seconds=2)


def test_unknown_event_types_are_processed_as_ignored() -> None:
    record = new_record()
    record.mark_ignored(T0)
    assert (record.status, record.note) == (S.PROCESSED, NOTE_IGNORED)


def test_unknown_tenants_are_parked_then_replayable() -> None:
    record = new_record()
    record.mark_parked("unknown tenant for customer cus_9", T0)
    assert record.status is S.PARKED
    assert record.note == "unknown tenant for customer cus_9"
    assert record.next_attempt_at is None
    record.replay(T0 + timedelta(hours=1))
    assert waiting_state(record) == (
        S.PENDING,
        None,
        T0 + timedelta(hours=1),
    )


def test_replay_of_a_failed_event_starts_over() -> None:
    record = new_record()
    for _ in range(4):
        record.mark_failed_attempt("boom", T0)
    assert record.status is S.FAILED
    record.replay(T0)
    assert (record.status, record.retry_count, record.finished_at) == (S.PENDING, 0, None)


@pytest.mark.parametrize("status", [S.PENDING, S.RETRYING, S.PROCESSED])
def test_only_failed_or_parked_events_replay(status: WebhookEventStatus) -> None:
    record = new_record()
    if status is S.RETRYING:
        record.mark_failed_attempt("boom", T0)
    if status is S.PROCESSED:
        record.mark_processed(T0)
    with pytest.raises(Conflict) as caught:
        record.replay(T0)
    assert caught.value.code == "not_replayable"


def test_finished_events_refuse_further_transitions() -> None:
    record = new_record()
    record.mark_processed(T0)
    transitions: list[Callable[[], None]] = [
        lambda: record.mark_processed(T0),
        lambda: record.mark_ignored(T0),
        lambda: record.mark_parked("x", T0),
        lambda: record.mark_failed_attempt("x", T0),
    ]
    for transition in transitions:
        with pytest.raises(Conflict) as caught:
            transition()
        assert caught.value.code == "illegal_transition"


def test_long_errors_are_truncated() -> None:
    record = new_record()
    record.mark_failed_attempt("x" * 10_000, T0)
    assert record.last_error is not None
    assert len(record.last_error) == 2000


# -- property: any sequence of transitions keeps the invariants ---------------------

OPS = ["processed", "ignored", "parked", "failed", "transient", "put_back", "replay"]


def apply(record: WebhookEventRecord, op: str, now: datetime, policy: RetryPolicy) -> None:
    if op == "processed":
        record.mark_processed(now)
    elif op == "ignored":
        record.mark_ignored(now)
    elif op == "parked":
        record.mark_parked("unknown tenant", now)
    elif op == "failed":
        record.mark_failed_attempt("boom", now, policy)
    elif op == "transient":
        record.mark_failed_attempt("db down", now, policy, failure=TRANSIENT)
    elif op == "put_back":
        record.put_back(now)
    else:
        record.replay(now)


def check_invariants(record: WebhookEventRecord, policy: RetryPolicy) -> None:
    assert record.retry_count >= 0
    if record.retry_count > policy.max_attempts and record.status is S.RETRYING:
        assert record.last_error_class is TRANSIENT  # only the slow lane goes beyond
    assert (record.next_attempt_at is not None) == (record.status in {S.PENDING, S.RETRYING})
    assert (record.finished_at is not None) == record.status.is_terminal
    if record.status is S.PENDING:
        assert record.retry_count == 0
    if record.status is S.RETRYING:
        assert record.retry_count >= 1


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 20)), max_size=25),
    max_attempts=st.integers(min_value=0, max_value=4),
    slow_max=st.integers(min_value=2, max_value=40),
    horizon=st.integers(min_value=0, max_value=200),
)
def test_any_sequence_of_transitions_keeps_the_invariants(
    ops: list[tuple[str, int]], max_attempts: int, slow_max: int, horizon: int
) -> None:
    policy = RetryPolicy(
        max_attempts=max_attempts, slow_max_seconds=slow_max, horizon=timedelta(seconds=horizon)
    )
    record = new_record()
    now = T0
    for op, elapsed in ops:
        now += timedelta(seconds=elapsed)
        before = replace(record)
        legal = before.status.is_replayable if op == "replay" else not before.status.is_terminal
        try:
            apply(record, op, now, policy)
        except Conflict:
            assert not legal
            assert record == before  # a refused transition changes nothing
        else:
            assert legal
            failing = op in ("failed", "transient")
            gives_up_at = policy.gives_up_at(record.received_at)
            if failing and record.status is S.RETRYING:
                assert record.retry_count == before.retry_count + 1
                wait = policy.backoff(record.retry_count)
                assert wait <= timedelta(seconds=slow_max)
                if before.retry_count < policy.max_attempts:  # the fast lane
                    assert record.next_attempt_at == now + wait
                else:  # the slow lane: transient only, never beyond the horizon
                    assert op == "transient"
                    assert now < gives_up_at
                    assert record.next_attempt_at == min(now + wait, gives_up_at)
            if failing and record.status is S.FAILED:
                assert before.retry_count >= policy.max_attempts
                assert op == "failed" or now >= gives_up_at
            if failing:
                assert record.last_error_class is (TRANSIENT if op == "transient" else PERMANENT)
        if before.status.is_terminal and record.status is not before.status:
            assert op == "replay"
        check_invariants(record, policy)
