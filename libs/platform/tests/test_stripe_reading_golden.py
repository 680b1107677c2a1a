"""Golden test of the one Stripe reader (``billing_platform.stripe_reading``).

Fed Stripe's own fixtures (``stripe_fixture``) and objects captured from the
sandbox's journeys (``data/sandbox_objects.json``, written by
``data/capture_sandbox_objects.py``), its readings must equal the ones committed in
``data/expected_readings.json``. A change of reading shows as a diff of that file:
regenerate with ``.venv/bin/python libs/platform/tests/test_stripe_reading_golden.py
--update`` and review it. A few readings are also asserted by hand below, so the
golden file cannot silently enshrine a wrong answer.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.stripe_reading import (
    PriceCatalog,
    read_checkout_session,
    read_customer,
    read_invoice,
    read_payment_method,
    read_price,
    read_subscription,
)
from billing_platform.testing.stripe_fixtures import stripe_fixture

DATA = Path(__file__).resolve().parent / "data"
SANDBOX_OBJECTS = DATA / "sandbox_objects.json"
EXPECTED = DATA / "expected_readings.json"
FIXTURE_KINDS = (
    "subscription",
    "invoice",
    "checkout.session",
    "payment_method",
    "price",
    "customer",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _sandbox() -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads(SANDBOX_OBJECTS.read_text())
    return loaded


def all_objects() -> dict[str, dict[str, Any]]:
    """``fixture.<stripe object>`` and ``sandbox.<kind>.<journey step>``."""
    objects = {f"fixture.{kind}": stripe_fixture(kind) for kind in FIXTURE_KINDS}
    objects.update({f"sandbox.{name}": obj for name, obj in _sandbox().items()})
    return objects


def kind_of(name: str) -> str:
    source, rest = name.split(".", 1)
    return rest if source == "fixture" else rest.split(".", 1)[0]


def _catalog(objects: Mapping[str, Mapping[str, Any]]) -> PriceCatalog:
    """Stripe's fixtures carry no lookup keys: their price ids are configured (as
    ``STRIPE_PRICE_*`` would be); the sandbox's prices are known by lookup key, and
    learned whole (schedule phases name them by id only, as Stripe's do)."""
    fixture_price = stripe_fixture("subscription")["items"]["data"][0]["price"]["id"]
    catalog = PriceCatalog({"team": fixture_price, "solo": stripe_fixture("price")["id"]})
    for name, obj in objects.items():
        if name.startswith("sandbox.price."):
            catalog.learn(obj)
    return catalog


def _reader(kind: str, catalog: PriceCatalog) -> Callable[[Mapping[str, Any]], Any]:
    readers: dict[str, Callable[[Mapping[str, Any]], Any]] = {
        "subscription": lambda obj: read_subscription(obj, catalog),
        "invoice": read_invoice,
        "checkout.session": read_checkout_session,
        "checkout_session": read_checkout_session,
        "payment_method": read_payment_method,
        "customer": read_customer,
        "price": lambda obj: {"price": read_price(obj), "plan": catalog.plan_of(obj)},
    }
    return readers[kind]


def _asdict(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {k: _asdict(v) for k, v in value.items()}
    return value


def readings() -> dict[str, Any]:
    objects = all_objects()
    catalog = _catalog(objects)
    return {
        name: _plain(_asdict(_reader(kind_of(name), catalog)(obj)))
        for name, obj in sorted(objects.items())
    }


def test_every_object_reads_as_committed() -> None:
    expected = json.loads(EXPECTED.read_text())
    got = readings()
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == expected[name], name


def test_the_golden_set_covers_every_reader_from_both_sources() -> None:
    names = all_objects()
    for source in ("fixture", "sandbox"):
        kinds = {kind_of(name).replace(".", "_") for name in names if name.startswith(source)}
        assert kinds >= {"subscription", "invoice", "checkout_session", "payment_method", "price"}


@pytest.fixture(scope="module")
def read() -> dict[str, Any]:
    return readings()


def test_sandbox_trial_reads_as_a_trial(read: dict[str, Any]) -> None:
    trial = read["sandbox.subscription.team_trialing"]
    assert trial["snapshot"]["plan"] == PlanType.TEAM.value
    assert trial["snapshot"]["status"] == SubscriptionStatus.TRIALING.value
    assert trial["is_trial"] is True
    assert trial["snapshot"]["trial_end"] is not None


def test_sandbox_trial_without_a_card_pauses_and_reads_no_payment_method(
    read: dict[str, Any],
) -> None:
    cardless = read["sandbox.subscription.team_trial_without_card"]
    assert (cardless["is_trial"], cardless["trial_end_behavior"]) == (True, "pause")
    assert cardless["snapshot"]["has_payment_method"] is None  # the customer was not read
    paused = read["sandbox.subscription.team_paused"]
    assert paused["snapshot"]["status"] == "paused"
    assert (paused["is_trial"], paused["collection_paused"]) == (False, False)
    expanded = read["sandbox.subscription.team_paused_customer_expanded"]
    assert expanded["snapshot"]["has_payment_method"] is False
    with_card = read["sandbox.subscription.team_trialing"]
    assert with_card["snapshot"]["has_payment_method"] is True
    assert with_card["trial_end_behavior"] == "create_invoice"


def test_pause_collection_is_not_a_paused_status(read: dict[str, Any]) -> None:
    collecting_paused = [
        reading for reading in read.values() if reading.get("collection_paused") is True
    ]
    assert collecting_paused  # Stripe's fixture sets pause_collection
    assert all(r["snapshot"]["status"] != "paused" for r in collecting_paused)


def test_sandbox_three_phase_schedule_pends_the_next_different_plan(
    read: dict[str, Any],
) -> None:
    objects = _sandbox()
    schedule = objects["subscription.team_team_solo_schedule"]["schedule"]
    third_start = datetime.fromtimestamp(schedule["phases"][2]["start_date"]).astimezone()
    reading = read["sandbox.subscription.team_team_solo_schedule"]
    pending = reading["snapshot"]["pending_plan"]
    assert reading["snapshot"]["plan"] == "team"
    assert pending["plan"] == "solo"
    assert datetime.fromisoformat(pending["effective_at"]) == third_start


def test_sandbox_checkout_and_invoice(read: dict[str, Any]) -> None:
    trial_session = read["sandbox.checkout_session.team_trial"]
    assert trial_session["provisions"] is True  # complete + no_payment_required
    assert trial_session["payment_status"] == "no_payment_required"
    paid = read["sandbox.checkout_session.solo_paid"]
    assert (paid["provisions"], paid["payment_status"]) == (True, "paid")
    invoice = read["sandbox.invoice.solo_paid"]
    assert (
        invoice["subscription_id"]
        == read["sandbox.subscription.solo_active"]["snapshot"]["subscription_id"]
    )
    assert invoice["tenant_hint"] == "t-1"  # from parent.subscription_details.metadata
    card = read["sandbox.payment_method.solo_card"]
    assert card["last4"] == "4242"


def test_sandbox_yearly_subscription_reads_its_interval(read: dict[str, Any]) -> None:
    yearly = read["sandbox.subscription.team_yearly"]
    assert (yearly["snapshot"]["plan"], yearly["snapshot"]["interval"]) == ("team", "year")
    assert yearly["interval"] == "year"
    price = read["sandbox.price.team_yearly"]
    assert (price["plan"], price["price"]["interval"]) == ("team", "year")
    monthly = read["sandbox.subscription.solo_active"]
    assert monthly["snapshot"]["interval"] == "month"


def test_sandbox_yearly_to_monthly_at_renewal_is_pending(read: dict[str, Any]) -> None:
    objects = _sandbox()
    reading = read["sandbox.subscription.team_yearly_to_monthly_schedule"]
    schedule = objects["subscription.team_yearly_to_monthly_schedule"]["schedule"]
    second_start = datetime.fromtimestamp(schedule["phases"][1]["start_date"]).astimezone()
    pending = reading["snapshot"]["pending_plan"]
    assert reading["snapshot"]["interval"] == "year"
    assert (pending["plan"], pending["interval"]) == ("team", "month")
    assert datetime.fromisoformat(pending["effective_at"]) == second_start


def test_stripe_fixtures_unpaid_session_does_not_provision(read: dict[str, Any]) -> None:
    session = read["fixture.checkout.session"]
    assert (session["status"], session["provisions"]) == ("open", False)


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    EXPECTED.write_text(json.dumps(readings(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {EXPECTED}")
