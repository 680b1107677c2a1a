import json
from datetime import UTC, datetime, timedelta

import pytest
from billing_platform.testing.clock import FakeClock

from billing_domain import events as integration
from billing_domain.auth import Principal, Role
from billing_domain.events import event_from_envelope
from billing_domain.integration_mapping import to_integration_events
from billing_domain.money import Money
from billing_domain.ordering import AppliedMark
from billing_domain.payment_failure import PaymentFailure
from billing_domain.plans import PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import SubscriptionSnapshot

pytestmark = pytest.mark.unit

NOW = datetime(2026, 8, 1, tzinfo=UTC)
OWNER = Principal(user_id="u1", tenant_id="t1", role=Role.OWNER)


def team_account() -> BillingAccount:
    account = BillingAccount.free("t1")
    account.apply_stripe_snapshot(
        SubscriptionSnapshot(
            subscription_id="sub_1",
            customer_id="cus_1",
            plan=PlanType.TEAM,
            status=SubscriptionStatus.ACTIVE,
            current_period_end=NOW + timedelta(days=30),
        ),
        AppliedMark(created=NOW, event_id="evt_0"),
    )
    return account


def publish(account: BillingAccount) -> list[integration.IntegrationEvent]:
    messages = to_integration_events(
        account.pull_events(),
        state=account.snapshot(),
        source="subscriptions",
        causation_id="evt_9",
        clock=FakeClock(NOW),
        stripe_created=NOW,
    )
    for message in messages:
        assert event_from_envelope(json.loads(json.dumps(message.to_envelope()))) == message
    return messages


def test_activation_carries_the_whole_subscription() -> None:
    message, granted = publish(team_account())
    assert isinstance(message, integration.SubscriptionActivated)
    assert isinstance(granted, integration.EntitlementsChanged)
    assert (granted.previous_plan, granted.plan) == (PlanType.FREE, PlanType.TEAM)
    assert (message.tenant_id, message.source, message.causation_id) == (
        "t1",
        "subscriptions",
        "evt_9",
    )
    assert message.stripe_subscription_id == "sub_1"
    assert message.plan is PlanType.TEAM
    assert message.applied_mark() == AppliedMark(created=NOW, event_id="evt_9")


def test_user_commands_become_messages() -> None:
    account = team_account()
    account.pull_events()
    account.request_plan_change(OWNER, PlanType.SOLO, NOW)
    account.schedule_cancel(OWNER, NOW)
    account.resume(OWNER)
    messages = publish(account)
    assert [type(m) for m in messages] == [
        integration.SubscriptionPlanChanged,
        integration.SubscriptionUpdated,  # the pending downgrade was dropped by the cancel
        integration.SubscriptionCancelScheduled,
        integration.SubscriptionResumed,
    ]
    changed = messages[0]
    assert isinstance(changed, integration.SubscriptionPlanChanged)
    assert changed.effective is PlanChangeEffective.PERIOD_END
    assert changed.to_plan is PlanType.SOLO


def test_cancellation_names_the_plan_that_ended() -> None:
    account = team_account()
    account.pull_events()
    account.apply_authoritative(
        SubscriptionSnapshot(
            subscription_id="sub_1",
            customer_id="cus_1",
            plan=PlanType.TEAM,
            status=SubscriptionStatus.CANCELED,
        )
    )
    message, granted = publish(account)
    assert isinstance(granted, integration.EntitlementsChanged)
    assert (granted.previous_plan, granted.plan) == (PlanType.TEAM, PlanType.FREE)
    assert isinstance(message, integration.SubscriptionCanceled)
    assert message.plan is PlanType.TEAM
    assert message.status is SubscriptionStatus.CANCELED


def test_invoice_messages() -> None:
    account = team_account()
    account.pull_events()
    account.record_payment_failed(
        PaymentFailure(
            amount_due=Money(amount=4900, currency="usd"),
            hosted_invoice_url="https://pay.example/in_1",
            next_payment_attempt=NOW + timedelta(days=2),
            invoice_id="in_1",
        )
    )
    account.record_invoice_paid(invoice_id="in_1", amount_paid=Money(amount=4900, currency="usd"))
    failed, paid = publish(account)
    assert isinstance(failed, integration.InvoicePaymentFailed)
    assert (failed.amount_due, failed.currency, failed.stripe_invoice_id) == (4900, "usd", "in_1")
    assert failed.stripe_customer_id == "cus_1"
    assert isinstance(paid, integration.InvoicePaid)
    assert paid.money_paid == Money(amount=4900, currency="usd")


def test_no_subscription_no_subscription_messages() -> None:
    account = BillingAccount.free("t1")
    assert account.snapshot() is None
    account.record_invoice_paid(invoice_id="in_7", amount_paid=Money(amount=0, currency="usd"))
    (message,) = publish(account)
    assert isinstance(message, integration.InvoicePaid)
    assert message.stripe_subscription_id is None
