"""payment_method.* and the invoice document events (created/finalized/updated), on
payloads built from Stripe's official fixtures."""

from datetime import UTC, datetime
from typing import Any

import pytest
from billing_domain import events as ev
from billing_domain import payment_events as pay
from billing_domain.errors import RuleViolated
from billing_platform.stripe_reading import PriceCatalog
from billing_platform.testing.stripe_fixtures import stripe_fixture
from webhooks import translate
from webhooks.testing import Builders

pytestmark = pytest.mark.unit

PLANS = PriceCatalog({"solo": "price_solo", "team": "price_team", "enterprise": "price_enterprise"})
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _run(event: dict[str, Any]) -> list[ev.IntegrationEvent]:
    return translate.translate(event, tenant_id="tenant_a", plans=PLANS, now=NOW)


def _card(customer: str | None = "cus_a", **card: Any) -> dict[str, Any]:
    pm = stripe_fixture("payment_method")
    pm.update(id="pm_new", customer=customer, created=1_790_000_000)
    pm["card"].update({"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034, **card})
    return pm


def test_attached_carries_the_card_summary_and_nothing_more(build: type[Builders]) -> None:
    event = build.event("payment_method.attached", _card())
    assert translate.customer_id(event) == "cus_a"
    [out] = _run(event)
    assert isinstance(out, pay.PaymentMethodAttached)
    assert (out.stripe_payment_method_id, out.stripe_customer_id) == ("pm_new", "cus_a")
    assert (out.brand, out.last4, out.exp_month, out.exp_year) == ("visa", "4242", 12, 2034)
    assert "fingerprint" not in out.to_envelope()["data"]  # type: ignore[operator]
    assert out.causation_id == event["id"]


def test_detached_names_the_customer_it_left(build: type[Builders]) -> None:
    event = build.event("payment_method.detached", _card(customer=None))
    event["data"]["previous_attributes"] = {"customer": "cus_a"}
    assert translate.customer_id(event) == "cus_a"
    [out] = _run(event)
    assert isinstance(out, pay.PaymentMethodDetached)
    assert out.stripe_customer_id == "cus_a"


def test_detached_without_any_customer_fails_loudly(build: type[Builders]) -> None:
    event = build.event("payment_method.detached", _card(customer=None))
    assert translate.customer_id(event) is None
    with pytest.raises(RuleViolated):
        _run(event)


def test_updated_and_automatically_updated(build: type[Builders]) -> None:
    [manual] = _run(build.event("payment_method.updated", _card(exp_year=2035)))
    assert isinstance(manual, pay.PaymentMethodUpdated)
    assert (manual.exp_year, manual.automatic) == (2035, False)
    [auto] = _run(build.event("payment_method.automatically_updated", _card(exp_month=3)))
    assert isinstance(auto, pay.PaymentMethodUpdated)
    assert (auto.exp_month, auto.automatic) == (3, True)


@pytest.mark.parametrize(
    ("stripe_type", "cls"),
    [
        ("invoice.created", pay.InvoiceCreated),
        ("invoice.finalized", pay.InvoiceFinalized),
        ("invoice.updated", pay.InvoiceUpdated),
    ],
)
def test_invoice_documents(
    build: type[Builders], stripe_type: str, cls: type[pay.InvoiceDocumentEvent]
) -> None:
    invoice = build.invoice(
        number="ABC-0001",
        status="open",
        total=2900,
        amount_due=2900,
        period_start=1_790_000_000,  # a first invoice: Stripe's own period is one instant
        period_end=1_790_000_000,
        created=1_790_000_100,
        invoice_pdf="https://pay.stripe.test/i/1/pdf",
        lines={
            "object": "list",
            "data": [
                {"object": "line_item", "period": {"start": 1_790_000_000, "end": 1_792_592_000}}
            ],
        },
    )
    [out] = _run(build.event(stripe_type, invoice))
    assert isinstance(out, cls)
    assert (out.number, out.status, out.total, out.amount_due) == ("ABC-0001", "open", 2900, 2900)
    # the period paid for, from the line
    assert out.period_start == datetime.fromtimestamp(1_790_000_000, UTC)
    assert out.period_end == datetime.fromtimestamp(1_792_592_000, UTC)
    assert out.invoice_created == datetime.fromtimestamp(1_790_000_100, UTC)
    assert out.invoice_pdf == "https://pay.stripe.test/i/1/pdf"
    assert out.hosted_invoice_url == "https://invoice.stripe.test/i/1"


def test_paid_invoice_says_its_number_status_and_the_card(build: type[Builders]) -> None:
    invoice = build.invoice(
        status="paid", number="ABC-0002", amount_paid=2900, default_payment_method="pm_new"
    )
    [out] = _run(build.event("invoice.paid", invoice))
    assert isinstance(out, ev.InvoicePaid)
    assert (out.number, out.status, out.stripe_payment_method_id) == ("ABC-0002", "paid", "pm_new")


def test_a_setup_mode_session_provisions_nothing(build: type[Builders]) -> None:
    session = build.session(mode="setup", payment_status="no_payment_required")
    assert _run(build.event("checkout.session.completed", session)) == []
