import dataclasses
import json
import types
import typing
import uuid
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import pytest
from billing_platform.testing.clock import FakeClock
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_domain.errors import RuleViolated
from billing_domain.events import (
    EVENT_TYPES,
    CheckoutCompleted,
    IntegrationEvent,
    InvoicePaymentFailed,
    SubscriptionCanceled,
    SubscriptionPlanChanged,
    event_from_envelope,
    new_event,
    snapshot_data,
)
from billing_domain.money import Money
from billing_domain.ordering import AppliedMark
from billing_domain.plans import PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot

pytestmark = pytest.mark.unit

NOW = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)


def canceled_event(**overrides: Any) -> SubscriptionCanceled:
    fields: dict[str, Any] = {
        "tenant_id": "t1",
        "source": "webhooks",
        "causation_id": "evt_1",
        "clock": FakeClock(NOW),
        "stripe_subscription_id": "sub_1",
        "stripe_customer_id": "cus_1",
        "plan": PlanType.TEAM,
        "status": SubscriptionStatus.CANCELED,
        "current_period_end": NOW + timedelta(days=3),
        "stripe_created": NOW - timedelta(seconds=5),
    }
    fields.update(overrides)
    return new_event(SubscriptionCanceled, **fields)


def test_the_catalogue_covers_the_contract() -> None:
    contract = {
        "checkout.completed",
        "subscription.activated",
        "subscription.updated",
        "subscription.cancel_scheduled",
        "subscription.resumed",
        "subscription.plan_changed",
        "subscription.canceled",
        "subscription.trial_will_end",
        "invoice.paid",
        "invoice.payment_failed",
    }
    assert contract <= set(EVENT_TYPES)
    assert all(cls.type == name for name, cls in EVENT_TYPES.items())
    assert all(cls.schema_version == 1 for cls in EVENT_TYPES.values())


def test_envelope_has_exactly_the_contract_shape() -> None:
    event = canceled_event()
    body = event.to_envelope()
    assert list(body) == [
        "id",
        "type",
        "schema_version",
        "occurred_at",
        "tenant_id",
        "source",
        "causation_id",
        "data",
    ]
    assert body["id"] == str(event.id)
    assert uuid.UUID(str(body["id"])).version == 4
    assert body["type"] == "subscription.canceled"
    assert body["schema_version"] == 1
    assert body["occurred_at"] == "2026-07-01T08:30:00Z"
    assert (body["tenant_id"], body["source"], body["causation_id"]) == ("t1", "webhooks", "evt_1")
    data = body["data"]
    assert isinstance(data, dict)
    assert data["plan"] == "team"
    assert data["status"] == "canceled"
    assert data["current_period_end"] == "2026-07-04T08:30:00Z"
    assert data["pending_plan"] is None
    assert "id" not in data
    assert event.routing_key == "billing.subscription.canceled"


def test_new_event_fills_id_and_time_from_the_clock() -> None:
    first, second = canceled_event(), canceled_event()
    assert first.occurred_at == NOW
    assert first.id != second.id


def test_datetimes_are_normalised_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    event = canceled_event(clock=FakeClock(NOW.astimezone(plus_two)))
    assert event.occurred_at.tzinfo is UTC
    with pytest.raises(RuleViolated):
        canceled_event(clock=FakeClock(datetime(2026, 1, 1)))  # naive


def test_stripe_derived_events_carry_their_ordering_mark() -> None:
    event = canceled_event()
    assert event.applied_mark() == AppliedMark(created=NOW - timedelta(seconds=5), event_id="evt_1")
    assert canceled_event(stripe_created=None).applied_mark() is None


def test_subscription_events_carry_a_snapshot() -> None:
    snapshot = SubscriptionSnapshot(
        subscription_id="sub_1",
        customer_id="cus_1",
        plan=PlanType.ENTERPRISE,
        status=SubscriptionStatus.ACTIVE,
        cancel_at_period_end=False,
        current_period_end=NOW,
        pending_plan=PendingPlanChange(plan=PlanType.SOLO, effective_at=NOW),
    )
    event = new_event(
        SubscriptionPlanChanged,
        tenant_id="t1",
        source="webhooks",
        causation_id="evt_2",
        clock=FakeClock(NOW),
        from_plan=PlanType.ENTERPRISE,
        to_plan=PlanType.SOLO,
        effective=PlanChangeEffective.PERIOD_END,
        effective_at=NOW,
        **snapshot_data(snapshot),
    )
    assert event.snapshot() == snapshot
    assert event_from_envelope(event.to_envelope()) == event


def test_payment_failed_event_gives_the_failure_state() -> None:
    event = new_event(
        InvoicePaymentFailed,
        tenant_id="t1",
        source="webhooks",
        causation_id="evt_3",
        clock=FakeClock(NOW),
        stripe_invoice_id="in_1",
        stripe_customer_id="cus_1",
        amount_due=2900,
        currency="usd",
        hosted_invoice_url="https://pay.example/in_1",
        next_payment_attempt=NOW + timedelta(days=3),
    )
    failure = event.payment_failure()
    assert failure.amount_due == Money(amount=2900, currency="usd")
    assert failure.invoice_id == "in_1"
    assert failure.next_payment_attempt == NOW + timedelta(days=3)


# -- decoding errors ------------------------------------------------------------


def body_with(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(canceled_event().to_envelope()))
    data_changes = changes.pop("data", {})
    body.update(changes)
    if isinstance(data_changes, dict):
        body["data"].update(data_changes)
    else:
        body["data"] = data_changes
    return body


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        (body_with(type="subscription.exploded"), "unknown_event_type", "subscription.exploded"),
        (body_with(type=None), "unknown_event_type", "None"),
        (body_with(schema_version=2), "unsupported_schema_version", "schema_version 2"),
        (body_with(schema_version=True), "unsupported_schema_version", "schema_version"),
        (body_with(data=None), "bad_event", "'data'"),
        (body_with(id="not-a-uuid"), "bad_event", "id must be a UUID"),
        (body_with(tenant_id=7), "bad_event", "tenant_id must be a string"),
        (body_with(data={"plan": "platinum"}), "bad_event", "data.plan must be one of"),
        (body_with(data={"cancel_at_period_end": 1}), "bad_event", "must be a boolean"),
        (body_with(data={"stripe_subscription_id": None}), "bad_event", "must be a string"),
        (body_with(occurred_at="2026-07-01T08:30:00"), "bad_timestamp", "no UTC offset"),
        (body_with(occurred_at=1751358600), "bad_event", "RFC 3339"),
    ],
)
def test_bad_bodies_are_refused_clearly(body: dict[str, Any], code: str, fragment: str) -> None:
    with pytest.raises(RuleViolated) as caught:
        event_from_envelope(body)
    assert caught.value.code == code
    assert fragment in caught.value.message


def test_missing_fields_are_named() -> None:
    body = body_with()
    del body["data"]["stripe_customer_id"]
    with pytest.raises(RuleViolated, match=r"data\.stripe_customer_id is missing"):
        event_from_envelope(body)
    del body["causation_id"]
    with pytest.raises(RuleViolated, match="causation_id is missing"):
        event_from_envelope(body)


def test_integers_are_not_booleans() -> None:
    body = json.loads(json.dumps(canceled_event().to_envelope()))
    body["type"] = "invoice.paid"
    body["data"] = {
        "stripe_invoice_id": "in_1",
        "stripe_customer_id": "cus_1",
        "currency": "usd",
        "amount_paid": True,
    }
    with pytest.raises(RuleViolated, match="amount_paid must be an integer"):
        event_from_envelope(body)


def test_unknown_data_keys_and_missing_defaults_are_tolerated() -> None:
    body = body_with(data={"added_in_a_later_version": 1})
    del body["data"]["trial_end"]
    event = event_from_envelope(body)
    assert isinstance(event, SubscriptionCanceled)
    assert event.trial_end is None


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(RuleViolated):
        event_from_envelope([])  # type: ignore[arg-type]


def test_decoding_through_the_wrong_class_is_refused() -> None:
    with pytest.raises(RuleViolated):
        CheckoutCompleted.from_envelope(canceled_event().to_envelope())


# -- property: the JSON round trip is lossless -------------------------------------

ZONES = [UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    if isinstance(tp, types.UnionType):
        (inner,) = (m for m in typing.get_args(tp) if m is not type(None))
        return st.none() | strategy_for(inner)
    if tp is datetime:
        return st.datetimes(
            min_value=datetime(1970, 1, 2),
            max_value=datetime(2100, 1, 1),
            timezones=st.sampled_from(ZONES),
        )
    if tp is uuid.UUID:
        return st.uuids()
    if isinstance(tp, type) and issubclass(tp, Enum):
        return st.sampled_from(tp)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=-(2**53), max_value=2**53)
    if typing.get_origin(tp) is tuple:
        (item, _ellipsis) = typing.get_args(tp)
        return st.lists(strategy_for(item), max_size=3).map(tuple)
    assert tp is str
    return st.text(max_size=12)


def strategy_for_event(cls: type[IntegrationEvent]) -> st.SearchStrategy[IntegrationEvent]:
    hints = typing.get_type_hints(cls)
    fields = {f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(cls)}
    return st.builds(cls, **fields)


any_event = st.one_of([strategy_for_event(cls) for cls in EVENT_TYPES.values()])


@settings(max_examples=150, deadline=None)
@given(any_event)
def test_round_trip_through_json_is_lossless(event: IntegrationEvent) -> None:
    body = event.to_envelope()
    wire = json.dumps(body)
    decoded = event_from_envelope(json.loads(wire))
    assert decoded == event
    assert type(decoded) is type(event)
    assert decoded.to_envelope() == body
    assert str(body["occurred_at"]).endswith("Z")


def test_a_tuple_field_travels_as_a_json_array_and_refuses_anything_else() -> None:
    from billing_domain.events import CustomerUpdated

    event = CustomerUpdated(
        id=uuid.uuid4(),
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        tenant_id="t",
        source="webhooks",
        causation_id="evt_1",
        stripe_customer_id="cus_1",
        preferred_locales=("fr", "en"),
    )
    body = event.to_envelope()
    assert body["data"]["preferred_locales"] == ["fr", "en"]  # type: ignore[index]
    assert event_from_envelope(json.loads(json.dumps(body))) == event
    body["data"]["preferred_locales"] = "fr"  # type: ignore[index]
    with pytest.raises(RuleViolated, match="must be an array"):
        event_from_envelope(body)
    body["data"]["preferred_locales"] = ["fr", 1]  # type: ignore[index]
    with pytest.raises(RuleViolated, match=r"preferred_locales\[1\] must be a string"):
        event_from_envelope(body)
