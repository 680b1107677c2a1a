"""Every translation, on payloads built from Stripe's official fixtures."""

from datetime import UTC, datetime
from typing import Any

import pytest
from billing_domain import events as ev
from billing_domain.errors import RuleViolated
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.stripe_reading import PriceCatalog, read_upcoming_invoice
from webhooks import translate
from webhooks.testing import Builders

pytestmark = pytest.mark.unit

PLANS = PriceCatalog({"solo": "price_solo", "team": "price_team", "enterprise": "price_enterprise"})
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _run(event: dict[str, Any], **lookups: Any) -> list[ev.IntegrationEvent]:
    return translate.translate(event, tenant_id="tenant_a", plans=PLANS, now=NOW, **lookups)


def test_subscription_updated_carries_the_current_state(build: type[Builders]) -> None:
    sub = build.subscription(plan="team", status="trialing", trial_end=1_790_000_000)
    event = build.event("customer.subscription.updated", sub, created=1_700_000_123)
    [out] = _run(event)
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.plan is PlanType.TEAM
    assert out.status is SubscriptionStatus.TRIALING
    assert out.current_period_end == datetime.fromtimestamp(1_800_000_000, UTC)
    assert out.trial_end == datetime.fromtimestamp(1_790_000_000, UTC)
    assert out.stripe_subscription_id == sub["id"]
    assert out.causation_id == event["id"]
    assert out.stripe_created == datetime.fromtimestamp(1_700_000_123, UTC)
    assert out.source == "webhooks"
    assert out.routing_key == "billing.subscription.updated"
    assert out.id == _run(event)[0].id  # the same Stripe event gives the same message id


@pytest.mark.parametrize(
    "event_type", ["customer.subscription.created", "customer.subscription.deleted"]
)
def test_created_and_deleted_are_subscription_updated_snapshots(
    build: type[Builders], event_type: str
) -> None:
    status = "canceled" if event_type.endswith("deleted") else "active"
    [out] = _run(build.event(event_type, build.subscription(status=status)))
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.status.value == status


def test_cancel_at_period_end_and_flexible_cancel_at(build: type[Builders]) -> None:
    flagged = build.subscription(cancel_at_period_end=True)
    [out] = _run(build.event("customer.subscription.updated", flagged))
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.cancel_at_period_end
    at_end = build.subscription(cancel_at=1_800_000_000)
    [out] = _run(build.event("customer.subscription.updated", at_end))
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.cancel_at_period_end


def test_trial_will_end(build: type[Builders]) -> None:
    [out] = _run(
        build.event("customer.subscription.trial_will_end", build.subscription(status="trialing"))
    )
    assert isinstance(out, ev.SubscriptionTrialWillEnd)


def test_schedule_with_a_later_cheaper_phase_is_a_pending_downgrade(build: type[Builders]) -> None:
    sub = build.subscription(plan="enterprise", schedule="sub_sched_1")
    event = build.event("customer.subscription.updated", sub)
    assert translate.lookups(event).schedule_id == "sub_sched_1"
    schedule = {
        "id": "sub_sched_1",
        "status": "active",
        "current_phase": {"start_date": 1_797_400_000, "end_date": 1_800_000_000},
        "phases": [
            {
                "start_date": 1_797_400_000,
                "end_date": 1_800_000_000,
                "items": [{"price": "price_enterprise"}],
            },
            {
                "start_date": 1_800_000_000,
                "end_date": None,
                "items": [{"price": {"id": "price_solo"}}],
            },
        ],
    }
    [out] = _run(event, schedule=schedule)
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.pending_plan is PlanType.SOLO
    assert out.pending_plan_effective_at == datetime.fromtimestamp(1_800_000_000, UTC)
    released = {**schedule, "status": "released"}
    [out] = _run(event, schedule=released)
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.pending_plan is None


def test_three_phase_schedule_team_team_solo_pends_solo(build: type[Builders]) -> None:
    """Issue 16's divergent case, through webhooks: the same reading the subscriptions
    gateway makes (billing_platform.stripe_reading), solo at the third phase's start."""
    sub = build.subscription(plan="team", schedule="sub_sched_3p")
    month = 2_592_000
    starts = [1_797_400_000, 1_800_000_000, 1_800_000_000 + month]
    prices = ["price_team", "price_team", "price_solo"]
    schedule = {
        "id": "sub_sched_3p",
        "status": "active",
        "current_phase": {"start_date": starts[0], "end_date": starts[1]},
        "phases": [
            {"start_date": start, "end_date": start + month, "items": [{"price": price}]}
            for start, price in zip(starts, prices, strict=True)
        ],
    }
    [out] = _run(build.event("customer.subscription.updated", sub), schedule=schedule)
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.pending_plan is PlanType.SOLO
    assert out.pending_plan_effective_at == datetime.fromtimestamp(starts[2], UTC)


def test_plan_from_lookup_key_or_metadata_when_the_price_id_is_not_configured(
    build: type[Builders],
) -> None:
    sub = build.subscription()
    sub["items"]["data"][0]["price"].update(id="price_other", lookup_key="solo_monthly")
    [out] = _run(build.event("customer.subscription.updated", sub))
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.plan is PlanType.SOLO
    sub["items"]["data"][0]["price"].update(lookup_key=None, metadata={"plan": "enterprise"})
    [out] = _run(build.event("customer.subscription.updated", sub))
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.plan is PlanType.ENTERPRISE


def test_a_price_that_is_none_of_our_plans_fails_loudly(build: type[Builders]) -> None:
    sub = build.subscription()
    sub["items"]["data"][0]["price"].update(id="price_other", lookup_key=None, metadata={})
    with pytest.raises(RuleViolated, match="not one of our plans"):
        _run(build.event("customer.subscription.updated", sub))


@pytest.mark.parametrize(
    ("payment_status", "provisions"),
    [("paid", True), ("no_payment_required", True), ("unpaid", False)],
)
def test_checkout_completed_provisions_only_when_paid(
    build: type[Builders], payment_status: str, provisions: bool
) -> None:
    session = build.session(payment_status=payment_status)
    out = _run(build.event("checkout.session.completed", session))
    if not provisions:
        assert out == []
        return
    [completed] = out
    assert isinstance(completed, ev.CheckoutCompleted)
    assert completed.plan is PlanType.TEAM
    assert completed.checkout_session_id == session["id"]
    assert completed.stripe_customer_id == "cus_a"
    assert completed.stripe_subscription_id == "sub_checkout"
    assert (completed.amount, completed.currency) == (2900, "usd")
    # no ``trial`` metadata and no subscription read: not a trial, whatever the payment
    # status (a 100 % coupon is ``no_payment_required`` too; billing_domain.stripe_rules)
    assert completed.trial is False


@pytest.mark.parametrize(("flag", "trial"), [("true", True), ("false", False)])
def test_checkout_trial_is_what_checkout_asked_for(
    build: type[Builders], flag: str, trial: bool
) -> None:
    session = build.session(payment_status="no_payment_required")
    session["metadata"]["trial"] = flag
    [completed] = _run(build.event("checkout.session.completed", session))
    assert isinstance(completed, ev.CheckoutCompleted)
    assert completed.trial is trial


@pytest.mark.parametrize(
    ("flag", "interval"), [("year", "year"), ("month", "month"), (None, "month"), ("week", "month")]
)
def test_checkout_completed_carries_the_interval_checkout_sold(
    build: type[Builders], flag: str | None, interval: str
) -> None:
    session = build.session(payment_status="paid")
    if flag is not None:
        session["metadata"]["interval"] = flag
    [completed] = _run(build.event("checkout.session.completed", session))
    assert isinstance(completed, ev.CheckoutCompleted)
    assert completed.interval.value == interval


def test_the_old_bug_complete_but_unpaid_does_not_provision(build: type[Builders]) -> None:
    """The replaced code skipped only when unpaid AND incomplete; complete+unpaid got through."""
    session = build.session(status="complete", payment_status="unpaid")
    assert _run(build.event("checkout.session.completed", session)) == []
    open_paid = build.session(status="open", payment_status="paid")
    assert _run(build.event("checkout.session.completed", open_paid)) == []


def test_async_payment_succeeded_provisions_and_failed_reports(build: type[Builders]) -> None:
    session = build.session(payment_status="paid")
    [done] = _run(build.event("checkout.session.async_payment_succeeded", session))
    assert isinstance(done, ev.CheckoutCompleted)
    failed_session = build.session(payment_status="unpaid")
    [failed] = _run(build.event("checkout.session.async_payment_failed", failed_session))
    assert isinstance(failed, ev.CheckoutAsyncPaymentFailed)
    assert failed.checkout_session_id == failed_session["id"]


def test_expired_session(build: type[Builders]) -> None:
    [out] = _run(
        build.event(
            "checkout.session.expired", build.session(status="expired", payment_status="unpaid")
        )
    )
    assert isinstance(out, ev.CheckoutSessionExpired)


def test_session_without_plan_metadata_reads_the_subscription(build: type[Builders]) -> None:
    session = build.session(plan=None)
    event = build.event("checkout.session.completed", session)
    assert translate.lookups(event).subscription_id == "sub_checkout"
    [out] = _run(event, subscription=build.subscription(plan="solo"))
    assert isinstance(out, ev.CheckoutCompleted)
    assert out.plan is PlanType.SOLO


def test_invoice_paid(build: type[Builders]) -> None:
    invoice = build.invoice(amount_paid=2900, status="paid")
    [out] = _run(build.event("invoice.paid", invoice))
    assert isinstance(out, ev.InvoicePaid)
    assert (out.amount_paid, out.currency) == (2900, "usd")
    assert out.stripe_subscription_id == "sub_1"


def test_invoice_payment_failed_carries_the_banner_data(build: type[Builders]) -> None:
    invoice = build.invoice(amount_due=4900, attempt_count=2)
    [out] = _run(build.event("invoice.payment_failed", invoice))
    assert isinstance(out, ev.InvoicePaymentFailed)
    assert out.amount_due == 4900
    assert out.hosted_invoice_url == "https://invoice.stripe.test/i/1"
    assert out.next_payment_attempt == datetime.fromtimestamp(1_800_000_000, UTC)
    assert out.attempt_count == 2


def _payments_declined(decline: str | None, code: str, last4: str) -> dict[str, Any]:
    method = {"id": "pm_1", "object": "payment_method", "card": {"brand": "visa", "last4": last4}}
    error = {"code": code, "decline_code": decline, "payment_method": method}
    intent = {"id": "pi_1", "status": "requires_payment_method", "last_payment_error": error}
    row = {"is_default": True, "payment": {"type": "payment_intent", "payment_intent": intent}}
    return {"object": "list", "data": [row]}


def test_failed_and_action_required_invoices_look_up_their_payments(
    build: type[Builders],
) -> None:
    invoice = build.invoice()
    for event_type in ("invoice.payment_failed", "invoice.payment_action_required"):
        assert (
            translate.lookups(build.event(event_type, invoice)).invoice_payments_of
            == (invoice["id"])
        )
    assert translate.lookups(build.event("invoice.paid", invoice)).invoice_payments_of is None


def test_invoice_payment_failed_carries_the_decline_and_the_card(build: type[Builders]) -> None:
    invoice = build.invoice(attempt_count=2)
    event = build.event("invoice.payment_failed", invoice, created=1_700_000_000)

    [out] = _run(
        event, invoice_payments=_payments_declined("insufficient_funds", "card_declined", "9995")
    )

    assert isinstance(out, ev.InvoicePaymentFailed)
    assert (out.decline_code, out.card_brand, out.card_last4) == (
        "insufficient_funds",
        "visa",
        "9995",
    )
    assert out.action_required is False
    attempt = out.payment_failure().attempts[0]
    assert (attempt.number, attempt.at) == (2, datetime.fromtimestamp(1_700_000_000, UTC))
    assert attempt.decline_code == "insufficient_funds"


def test_invoice_payment_failed_without_payments_says_nothing_of_the_decline(
    build: type[Builders],
) -> None:
    [out] = _run(build.event("invoice.payment_failed", build.invoice()), invoice_payments=None)
    assert isinstance(out, ev.InvoicePaymentFailed)
    assert (out.decline_code, out.card_last4) == (None, None)


def test_invoice_payment_action_required(build: type[Builders]) -> None:
    [out] = _run(build.event("invoice.payment_action_required", build.invoice()))
    assert isinstance(out, ev.InvoicePaymentActionRequired)
    assert out.amount_due == 2900


@pytest.mark.parametrize(
    ("event_type", "status"),
    [("customer.subscription.paused", "paused"), ("customer.subscription.resumed", "active")],
)
def test_pause_and_resume_are_subscription_updated_snapshots(
    build: type[Builders], event_type: str, status: str
) -> None:
    sub = build.subscription(plan="team", status=status, schedule="sub_sched_3")
    event = build.event(event_type, sub)
    assert translate.lookups(event).schedule_id == "sub_sched_3"
    [out] = _run(event)
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.status.value == status
    assert out.plan is PlanType.TEAM
    assert out.routing_key == "billing.subscription.updated"


def test_a_pause_with_a_status_stripe_does_not_have_fails_loudly(build: type[Builders]) -> None:
    event = build.event("customer.subscription.paused", build.subscription(status="frozen"))
    with pytest.raises(RuleViolated):
        _run(event)


def test_invoice_voided_ends_a_payment_failure(build: type[Builders]) -> None:
    invoice = build.invoice(status="void", tenant="t5")
    event = build.event("invoice.voided", invoice)
    assert translate.tenant_hint(event) == "t5"
    [out] = _run(event)
    assert isinstance(out, ev.InvoiceVoided)
    assert (out.stripe_invoice_id, out.stripe_subscription_id) == (invoice["id"], "sub_1")
    assert out.routing_key == "billing.invoice.voided"


def test_invoice_marked_uncollectible_carries_what_was_written_off(build: type[Builders]) -> None:
    invoice = build.invoice(status="uncollectible", amount_due=4900)
    [out] = _run(build.event("invoice.marked_uncollectible", invoice))
    assert isinstance(out, ev.InvoiceMarkedUncollectible)
    assert (out.amount_due, out.currency) == (4900, "usd")
    assert out.routing_key == "billing.invoice.marked_uncollectible"


def test_an_invoice_without_a_customer_is_refused(build: type[Builders]) -> None:
    invoice = build.invoice(customer=None)
    for event_type in ("invoice.voided", "invoice.marked_uncollectible"):
        with pytest.raises(RuleViolated):
            _run(build.event(event_type, invoice))


def test_invoice_in_the_older_shape_names_its_subscription_directly(build: type[Builders]) -> None:
    invoice = build.invoice(parent=None, subscription="sub_legacy")
    [out] = _run(build.event("invoice.paid", invoice))
    assert isinstance(out, ev.InvoicePaid)
    assert out.stripe_subscription_id == "sub_legacy"


def test_tenant_hints(build: type[Builders]) -> None:
    assert (
        translate.tenant_hint(
            build.event("customer.subscription.updated", build.subscription(tenant="t9"))
        )
        == "t9"
    )
    assert (
        translate.tenant_hint(build.event("checkout.session.completed", build.session(tenant="t8")))
        == "t8"
    )
    assert translate.tenant_hint(build.event("invoice.paid", build.invoice(tenant="t7"))) == "t7"
    assert translate.tenant_hint(build.event("invoice.paid", build.invoice())) is None
    assert (
        translate.customer_id(build.event("customer.created", build.customer("cus_z"))) == "cus_z"
    )
    assert (
        translate.customer_id(build.event("invoice.paid", build.invoice(customer="cus_y")))
        == "cus_y"
    )


@pytest.mark.parametrize("stripe_type", ["customer.created", "customer.updated"])
def test_customer_events_give_the_customer_as_it_now_stands(
    build: type[Builders], stripe_type: str
) -> None:
    customer = build.customer("cus_z")
    customer.update(
        email="billing@example.com",
        name="Acme",
        preferred_locales=["fr-FR", "en"],
        invoice_settings={**customer["invoice_settings"], "default_payment_method": "pm_1"},
    )
    event = build.event(stripe_type, customer, created=1_700_000_000)
    [out] = _run(event)
    assert isinstance(out, ev.CustomerUpdated)
    assert out.routing_key == "billing.customer.updated"
    assert (out.stripe_customer_id, out.email, out.name) == ("cus_z", "billing@example.com", "Acme")
    assert out.preferred_locales == ("fr-FR", "en")
    assert out.default_payment_method_id == "pm_1"
    assert out.stripe_created == datetime.fromtimestamp(1_700_000_000, UTC)
    assert ev.event_from_envelope(out.to_envelope()) == out


def test_a_customer_without_email_or_locales_reads_as_none_and_empty(
    build: type[Builders],
) -> None:
    customer = build.customer("cus_z")
    customer.update(email=None, name=None, preferred_locales=None, invoice_settings=None)
    [out] = _run(build.event("customer.updated", customer))
    assert isinstance(out, ev.CustomerUpdated)
    assert (out.email, out.name, out.preferred_locales, out.default_payment_method_id) == (
        None,
        None,
        (),
        None,
    )


def test_unknown_types_publish_nothing() -> None:
    assert "plan.created" not in translate.HANDLED_TYPES


def test_schedule_events_read_the_subscription_and_its_schedule(build: type[Builders]) -> None:
    schedule_obj = {
        "id": "sub_sched_7",
        "object": "subscription_schedule",
        "customer": "cus_a",
        "subscription": "sub_7",
        "status": "active",
        "metadata": {},
    }
    event = build.event("subscription_schedule.updated", schedule_obj)
    needs = translate.lookups(event)
    assert (needs.subscription_id, needs.schedule_of_subscription) == ("sub_7", True)
    sub = build.subscription(plan="enterprise", schedule="sub_sched_7")
    assert translate.schedule_id_of(sub) == "sub_sched_7"
    schedule = {
        "id": "sub_sched_7",
        "status": "active",
        "current_phase": {"start_date": 1_797_400_000, "end_date": 1_800_000_000},
        "phases": [
            {"start_date": 1_797_400_000, "items": [{"price": "price_enterprise"}]},
            {"start_date": 1_800_000_000, "items": [{"price": "price_team"}]},
        ],
    }
    [out] = _run(event, subscription=sub, schedule=schedule)
    assert isinstance(out, ev.SubscriptionUpdated)
    assert (out.plan, out.pending_plan) == (PlanType.ENTERPRISE, PlanType.TEAM)
    assert out.causation_id == event["id"]


def test_released_schedule_clears_the_pending_plan(build: type[Builders]) -> None:
    released = {
        "id": "sub_sched_8",
        "object": "subscription_schedule",
        "customer": "cus_a",
        "subscription": None,
        "released_subscription": "sub_8",
        "status": "released",
    }
    event = build.event("subscription_schedule.released", released)
    assert translate.lookups(event).subscription_id == "sub_8"
    [out] = _run(event, subscription=build.subscription(plan="team"), schedule=None)
    assert isinstance(out, ev.SubscriptionUpdated)
    assert out.pending_plan is None


def test_invoice_upcoming_carries_amount_interval_and_renewal_date(
    build: type[Builders],
) -> None:
    invoice = build.invoice(tenant="tenant_a")
    invoice.update(id=None, amount_due=49000, currency="eur", next_payment_attempt=1_800_000_000)
    event = build.event("invoice.upcoming", invoice)
    needs = translate.lookups(event)
    assert needs.subscription_id == read_upcoming_invoice(invoice).subscription_id
    [out] = _run(event, subscription=build.subscription(plan="team"))
    assert isinstance(out, ev.InvoiceUpcoming)
    assert (out.amount_due, out.currency, out.interval) == (49000, "eur", "month")
    assert out.renews_at == datetime.fromtimestamp(1_800_000_000, UTC)
    assert out.routing_key == "billing.invoice.upcoming"
    assert ev.event_from_envelope(out.to_envelope()) == out
