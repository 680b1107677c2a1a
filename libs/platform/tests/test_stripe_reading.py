"""``billing_platform.stripe_reading``: the cases the old copies disagreed on, the
schedule shapes, and hostile objects (every service reads Stripe through this)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from billing_domain.errors import RuleViolated
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.stripe_reading import (
    PriceCatalog,
    customer_tenant,
    id_of,
    read_checkout_session,
    read_customer,
    read_invoice,
    read_payment_method,
    read_snapshot,
    read_subscription,
)
from billing_platform.testing.stripe_fixtures import stripe_fixture

PRICES = {"solo": "price_solo", "team": "price_team", "enterprise": "price_enterprise"}
NOW = 1_800_000_000
MONTH = 30 * 86_400


def subscription(price: Any = "price_team", **fields: Any) -> dict[str, Any]:
    sub = stripe_fixture("subscription")
    sub.update(status="active", customer="cus_1", schedule=None, cancel_at=None)
    sub.update(cancel_at_period_end=False, trial_end=None)
    item = sub["items"]["data"][0]
    item.update(price=price, current_period_start=NOW, current_period_end=NOW + MONTH)
    sub.update(fields)
    return sub


def schedule(*prices: str, status: str = "active", current: bool = True) -> dict[str, Any]:
    phases = [
        {
            "start_date": NOW + i * MONTH,
            "end_date": NOW + (i + 1) * MONTH,
            "items": [{"price": price, "quantity": 1}],
        }
        for i, price in enumerate(prices)
    ]
    current_phase = (
        {"start_date": NOW, "end_date": NOW + MONTH} if current and status == "active" else None
    )
    return {
        "id": "sub_sched_1",
        "object": "subscription_schedule",
        "status": status,
        "current_phase": current_phase,
        "phases": phases,
    }


def at(offset: int) -> datetime:
    return datetime.fromtimestamp(NOW + offset, tz=UTC)


# -- the two divergent cases of issue 16 -----------------------------------------------


def test_three_phase_schedule_team_team_solo_pends_solo_at_the_third_phase() -> None:
    """Webhooks said solo, subscriptions said None: solo is what the tenant will be on."""
    sched = schedule("price_team", "price_team", "price_solo")
    catalog = PriceCatalog(PRICES)
    apart = read_snapshot(subscription(), catalog, schedule=sched)  # webhooks reads it apart
    expanded = read_snapshot(subscription(schedule=sched), catalog)  # the gateway expands it
    for snapshot in (apart, expanded):
        assert snapshot.plan is PlanType.TEAM
        assert snapshot.pending_plan is not None
        assert snapshot.pending_plan.plan is PlanType.SOLO
        assert snapshot.pending_plan.effective_at == at(2 * MONTH)


def test_lookup_key_team_with_metadata_solo_reads_team() -> None:
    """Webhooks said team, subscriptions said solo: the lookup key wins over metadata."""
    price = {"id": "price_other", "lookup_key": "team_monthly", "metadata": {"plan": "solo"}}
    catalog = PriceCatalog(PRICES)
    assert catalog.plan_of(price) is PlanType.TEAM
    assert read_snapshot(subscription(price=price), catalog).plan is PlanType.TEAM


# -- schedules -------------------------------------------------------------------------


def test_a_not_started_schedule_pends_its_first_phase() -> None:
    sched = schedule("price_solo", status="not_started")
    snapshot = read_snapshot(subscription(), PriceCatalog(PRICES), schedule=sched)
    assert snapshot.pending_plan is not None
    assert (snapshot.pending_plan.plan, snapshot.pending_plan.effective_at) == (
        PlanType.SOLO,
        at(0),
    )


def test_an_active_schedule_without_current_phase_skips_the_running_phase() -> None:
    sched = schedule("price_solo", "price_team", current=False)
    snapshot = read_snapshot(subscription(), PriceCatalog(PRICES), schedule=sched)
    assert snapshot.pending_plan is None  # phase 1 runs now; phase 2 keeps team


@pytest.mark.parametrize("status", ["released", "canceled", "completed"])
def test_a_schedule_that_is_over_pends_nothing(status: str) -> None:
    sched = schedule("price_team", "price_solo", status=status)
    assert read_snapshot(subscription(), PriceCatalog(PRICES), schedule=sched).pending_plan is None


def test_phases_after_the_pending_change_are_not_read() -> None:
    """A later phase's unknown price does not fail the reading of the next change."""
    sched = schedule("price_team", "price_solo", "price_unknown")
    snapshot = read_snapshot(subscription(), PriceCatalog(PRICES), schedule=sched)
    assert snapshot.pending_plan is not None
    assert snapshot.pending_plan.plan is PlanType.SOLO


def test_a_bare_price_id_is_known_once_learned_but_an_object_is_read_afresh() -> None:
    catalog = PriceCatalog({})
    with pytest.raises(RuleViolated) as unknown:
        catalog.plan_of("price_x")
    assert unknown.value.code == "unknown_price"
    assert catalog.learn({"id": "price_x", "lookup_key": "solo_monthly"}) is PlanType.SOLO
    assert catalog.plan_of("price_x") is PlanType.SOLO
    assert catalog.plan_of({"id": "price_x", "lookup_key": "team_monthly"}) is PlanType.TEAM


# -- subscriptions ---------------------------------------------------------------------


def test_trial_and_periods() -> None:
    sub = subscription(status="trialing", trial_end=NOW + 14 * 86_400, trial_start=NOW)
    reading = read_subscription(sub, PriceCatalog(PRICES))
    assert reading.is_trial
    assert reading.snapshot.status is SubscriptionStatus.TRIALING
    assert (reading.current_period_start, reading.snapshot.current_period_end) == (
        at(0),
        at(MONTH),
    )
    assert reading.snapshot.trial_end == at(14 * 86_400)


def test_an_ended_trial_is_not_a_trial_even_with_trial_end_in_the_future() -> None:
    sub = subscription(status="canceled", trial_end=NOW + 14 * 86_400)
    assert read_subscription(sub, PriceCatalog(PRICES)).is_trial is False


def test_cancel_at_the_period_end_reads_as_scheduled() -> None:
    catalog = PriceCatalog(PRICES)
    assert read_snapshot(subscription(cancel_at=NOW + MONTH), catalog).cancel_at_period_end
    assert not read_snapshot(subscription(cancel_at=NOW + 2 * MONTH), catalog).cancel_at_period_end


def test_the_period_of_older_api_versions_is_on_the_subscription() -> None:
    sub = subscription(current_period_end=NOW + 5)
    del sub["items"]["data"][0]["current_period_end"]
    assert read_snapshot(sub, PriceCatalog(PRICES)).current_period_end == at(5)


@pytest.mark.parametrize(
    "breakage",
    [
        {"id": None},
        {"customer": None},
        {"status": ""},
        {"items": {"object": "list", "data": []}},
        {"items": "not a list"},
    ],
)
def test_a_malformed_subscription_is_refused(breakage: dict[str, Any]) -> None:
    with pytest.raises(RuleViolated) as refused:
        read_subscription(subscription(**breakage), PriceCatalog(PRICES))
    assert refused.value.code == "malformed_subscription"


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(RuleViolated):
        read_subscription(subscription(status="exploded"), PriceCatalog(PRICES))


# -- invoices, sessions, cards, ids -------------------------------------------------------


def test_invoice_names_its_subscription_and_tenant_under_parent() -> None:
    invoice = stripe_fixture("invoice")
    invoice.update(customer={"id": "cus_1", "object": "customer"}, subscription=None)
    invoice["parent"] = {
        "type": "subscription_details",
        "subscription_details": {"subscription": "sub_1", "metadata": {"tenant_id": "t-9"}},
    }
    read = read_invoice(invoice)
    assert (read.customer_id, read.subscription_id, read.tenant_hint) == ("cus_1", "sub_1", "t-9")


def test_invoice_of_an_older_api_version_names_its_subscription_at_the_top() -> None:
    invoice = stripe_fixture("invoice")
    invoice.update(parent=None, subscription="sub_old")
    assert read_invoice(invoice).subscription_id == "sub_old"


DAY = 86_400
NOV_30, DEC_30, JAN_29 = 1_796_000_000, 1_796_000_000 + 30 * DAY, 1_796_000_000 + 60 * DAY


def _line(start: int | None, end: int | None) -> dict[str, Any]:
    return {"object": "line_item", "period": {"start": start, "end": end}}


def unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _billing(own: tuple[int, int], lines: list[dict[str, Any]]) -> tuple[datetime, datetime]:
    invoice = stripe_fixture("invoice")
    invoice.update(period_start=own[0], period_end=own[1])
    invoice["lines"] = {"object": "list", "data": lines, "has_more": False}
    read = read_invoice(invoice)
    assert read.period_start is not None
    assert read.period_end is not None
    return read.period_start, read.period_end


def test_an_invoice_bills_the_period_of_its_lines_not_its_own() -> None:
    # a subscription's first invoice: Stripe's own period is the instant it was made
    assert _billing((NOV_30, NOV_30), [_line(NOV_30, DEC_30)]) == (unix(NOV_30), unix(DEC_30))
    # a renewal: Stripe's own period is the month before; the line is the month paid for
    assert _billing((NOV_30, DEC_30), [_line(DEC_30, JAN_29)]) == (unix(DEC_30), unix(JAN_29))
    # an upgrade mid-period: the credit and the charge span from the change to the end
    mid = NOV_30 + 10 * DAY
    both = [_line(mid, DEC_30), _line(mid + 60, DEC_30)]
    assert _billing((NOV_30, mid), both) == (unix(mid), unix(DEC_30))


def test_without_dated_lines_an_invoice_bills_its_own_period() -> None:
    assert _billing((NOV_30, DEC_30), []) == (unix(NOV_30), unix(DEC_30))
    assert _billing((NOV_30, DEC_30), [_line(None, None)]) == (unix(NOV_30), unix(DEC_30))


def test_a_malformed_invoice_is_refused() -> None:
    invoice = stripe_fixture("invoice")
    invoice["customer"] = None
    with pytest.raises(RuleViolated) as refused:
        read_invoice(invoice)
    assert refused.value.code == "malformed_invoice"


def test_checkout_session_decision_and_what_it_names() -> None:
    session = stripe_fixture("checkout.session")
    session.update(status="complete", payment_status="no_payment_required", customer="cus_1")
    session.update(client_reference_id="t-ref", subscription={"id": "sub_1"})
    session["metadata"] = {"tenant_id": "t-meta", "plan": "team", "trial": "true"}
    read = read_checkout_session(session)
    assert read.provisions
    assert read.plan_named is PlanType.TEAM
    assert read.trial_requested
    assert (read.tenant_hint, read.subscription_id) == ("t-meta", "sub_1")


def test_a_session_naming_an_unknown_plan_is_refused() -> None:
    session = stripe_fixture("checkout.session")
    session["metadata"] = {"plan": "platinum"}
    with pytest.raises(RuleViolated):
        read_checkout_session(session)


def test_card_summary_holds_no_more_of_the_card() -> None:
    method = stripe_fixture("payment_method")
    card = read_payment_method(method)
    assert (card.brand, card.last4) == ("visa", "4242")
    assert set(vars(card)) == {
        "payment_method_id",
        "customer_id",
        "brand",
        "last4",
        "exp_month",
        "exp_year",
        "created",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [("cus_1", "cus_1"), ({"id": "cus_1"}, "cus_1"), ("", None), (None, None), ({"id": 3}, None)],
)
def test_id_of_an_expandable_field(value: Any, expected: str | None) -> None:
    assert id_of(value) == expected


def test_customer_tenant() -> None:
    assert customer_tenant({"metadata": {"tenant_id": "t-1"}}) == "t-1"
    assert customer_tenant({"metadata": None}) is None


def test_customer_reading_carries_the_billing_contact_and_default_method() -> None:
    customer = stripe_fixture("customer")
    customer.update(
        email="ops@example.com",
        preferred_locales=["de", 3, ""],
        invoice_settings={"default_payment_method": {"id": "pm_9", "object": "payment_method"}},
        metadata={"tenant_id": "t-1"},
    )
    reading = read_customer(customer)
    assert reading.email == "ops@example.com"
    assert reading.preferred_locales == ("de",)  # non-strings and blanks dropped
    assert reading.default_payment_method_id == "pm_9"  # expanded or not
    assert reading.tenant_hint == "t-1"
    with pytest.raises(RuleViolated):
        read_customer({"object": "customer"})
