from datetime import UTC, datetime

import pytest

from billing_domain.errors import Conflict
from billing_domain.invoice_history import InvoiceDocument, fold_invoice
from billing_domain.ordering import AppliedMark, ApplyOutcome
from billing_domain.payment_methods import (
    EXPIRING_SOON_DAYS,
    CardOnFile,
    further_along,
    refuse_removing_last_method,
    refuse_unless_payable,
    replacement_default,
)

pytestmark = pytest.mark.unit


def card(pm: str, month: int | None = 12, year: int | None = 2030, created: int = 0) -> CardOnFile:
    return CardOnFile(
        payment_method_id=pm,
        brand="visa",
        last4="4242",
        exp_month=month,
        exp_year=year,
        created=datetime.fromtimestamp(1_700_000_000 + created, UTC),
    )


def test_a_card_is_valid_to_the_end_of_its_expiry_month() -> None:
    assert card("pm", 2, 2028).expires_at() == datetime(2028, 3, 1, tzinfo=UTC)  # leap year
    assert card("pm", 12, 2030).expires_at() == datetime(2031, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "soon"),
    [
        (datetime(2030, 12, 11, 23, 59, tzinfo=UTC), False),  # 20 days + 1 minute left
        (datetime(2030, 12, 12, 0, 0, tzinfo=UTC), True),  # exactly 20 days left
        (datetime(2030, 12, 31, 23, 0, tzinfo=UTC), True),
        (datetime(2031, 2, 1, tzinfo=UTC), True),  # expired: soon, and expired
        (datetime(2030, 6, 1, tzinfo=UTC), False),
    ],
)
def test_expiring_soon_is_within_20_days_of_the_months_end(now: datetime, soon: bool) -> None:
    assert EXPIRING_SOON_DAYS == 20
    assert card("pm", 12, 2030).expiring_soon(now) is soon


def test_a_card_without_a_usable_expiry_is_never_expiring() -> None:
    now = datetime(2030, 12, 31, tzinfo=UTC)
    assert not card("pm", None, 2030).expiring_soon(now)
    assert not card("pm", 13, 2030).expiring_soon(now)
    assert card("pm", 0, 2030).expires_at() is None


def test_the_replacement_default_expires_last_then_is_newest() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    methods = [card("pm_old", 12, 2030), card("pm_a", 5, 2032, 1), card("pm_b", 5, 2032, 2)]
    assert replacement_default("pm_old", methods, now) == methods[2]
    assert replacement_default("pm_b", methods, now) == methods[1]


def test_no_replacement_when_only_expired_cards_remain() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    methods = [card("pm_default", 12, 2031), card("pm_expired", 1, 2029)]
    assert replacement_default("pm_default", methods, now) is None
    assert replacement_default("pm_default", [methods[0]], now) is None


def test_the_only_method_of_a_paid_subscription_stays() -> None:
    with pytest.raises(Conflict) as refused:
        refuse_removing_last_method("pm_1", [card("pm_1")], paid_subscription=True)
    assert refused.value.code == "last_payment_method"
    refuse_removing_last_method("pm_1", [card("pm_1")], paid_subscription=False)
    refuse_removing_last_method("pm_1", [card("pm_1"), card("pm_2")], paid_subscription=True)


@pytest.mark.parametrize(
    ("status", "remaining"), [("paid", 0), ("void", 2900), ("draft", 2900), ("open", 0), (None, 1)]
)
def test_nothing_due(status: str | None, remaining: int) -> None:
    with pytest.raises(Conflict) as refused:
        refuse_unless_payable(status, remaining)
    assert refused.value.code == "nothing_due"


def test_an_open_invoice_with_something_left_is_payable() -> None:
    refuse_unless_payable("open", 2900)


def test_of_two_events_of_one_second_the_later_status_wins() -> None:
    assert further_along("open", "paid")
    assert further_along("open", "open")
    assert not further_along("paid", "open")
    assert not further_along("void", "draft")
    assert further_along(None, "draft")


def _doc(status: str | None, created: int, event: str, **fields: object) -> InvoiceDocument:
    return InvoiceDocument(
        invoice_id="in_1",
        tenant_id="t",
        stripe_customer_id="cus",
        currency="usd",
        status=status,
        last_applied=AppliedMark(created=datetime.fromtimestamp(created, UTC), event_id=event),
        **fields,  # type: ignore[arg-type]
    )


def test_an_older_invoice_event_never_overwrites_a_newer_one() -> None:
    paid = _doc("paid", 100, "evt_paid", number="N-1", amount_due=2900)
    folded, outcome = fold_invoice(paid, _doc("open", 99, "evt_finalized"))
    assert (folded, outcome) == (None, ApplyOutcome.STALE)


def test_of_one_second_the_status_further_along_wins() -> None:
    open_ = _doc("open", 100, "evt_finalized", number="N-1", amount_due=2900)
    folded, _ = fold_invoice(open_, _doc("paid", 100, "evt_paid"))
    assert folded is not None
    assert folded.status == "paid"
    paid = _doc("paid", 100, "evt_paid", number="N-1")
    assert fold_invoice(paid, _doc("open", 100, "evt_finalized"))[0] is None


def test_fields_an_event_lacks_keep_what_is_known() -> None:
    open_ = _doc("open", 100, "evt_1", number="N-1", amount_due=2900, invoice_pdf="https://p")
    folded, outcome = fold_invoice(open_, _doc("paid", 101, "evt_2"))
    assert outcome is ApplyOutcome.APPLIED
    assert folded is not None
    assert (folded.number, folded.amount_due, folded.invoice_pdf) == ("N-1", 2900, "https://p")
    assert folded.status == "paid"
    assert fold_invoice(folded, _doc("paid", 101, "evt_2"))[1] is ApplyOutcome.DUPLICATE
