"""Each kind is queued once per (kind, tenant, subject, day), re-checked before sending,
and its outcome published as ``notification.sent`` (fakes, no I/O)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest
from billing_domain import events as ev
from billing_domain.notification_events import NotificationSent
from billing_domain.plans import PlanChangeEffective, PlanType
from billing_domain.status import SubscriptionStatus
from notifications.kinds import MailKind
from notifications.projection import project_billing_event
from notifications.testing import Events, World
from notifications.use_cases.sending import send_next_due

pytestmark = pytest.mark.unit


async def consume(world: World, event: ev.IntegrationEvent, message_id: str | None = None) -> bool:
    return await project_billing_event(
        world.consumed(event, message_id), world.uow(), world.clock, frozenset({"year"})
    )


async def drain(world: World) -> list[str]:
    statuses = []
    while (outcome := await send_next_due(world.deps())) is not None:
        statuses.append(outcome.status)
    return statuses


async def test_a_payment_failure_sends_one_mail_however_often_it_arrives(
    world: World, events: Events
) -> None:
    await consume(world, events.customer("t1"))
    failed = events.payment_failed("t1", amount=1999, currency="eur")
    assert await consume(world, failed)
    assert not await consume(world, failed)  # redelivered: the inbox drops it
    again = events.payment_failed("t1")  # Stripe sent the same fact again, another id
    await consume(world, again)
    assert await drain(world) == ["sent"]
    [mail] = world.transport.sent
    assert mail.to == "billing@tenant.example"
    assert "€19.99" in mail.subject
    assert "https://invoice.stripe.test/in_1" in mail.html
    assert "https://app.example/settings/billing#payment-methods" in mail.text
    assert "List-Unsubscribe" not in mail.headers  # critical: no way to switch it off
    [sent] = [e for e in world.db.outbox if isinstance(e, NotificationSent)]
    assert (sent.kind, sent.subject_id, sent.to, sent.status) == (
        "payment_failed",
        "in_1",
        "billing@tenant.example",
        "sent",
    )


async def test_each_failed_attempt_mails_once_and_a_late_copy_of_one_does_not(
    world: World, events: Events
) -> None:
    """Stripe retries a declined renewal 3 days on: that second failure is a mail of its
    own (its attempt, on its day); a copy of the first arriving then is not."""
    await consume(world, events.customer("t1"))
    first = events.payment_failed("t1")
    await consume(world, first)
    assert await drain(world) == ["sent"]
    world.clock.advance(3 * 86400)
    late_copy = dataclasses.replace(first, id=uuid.uuid4(), occurred_at=world.clock.now())
    await consume(world, late_copy)
    assert await drain(world) == []
    await consume(world, dataclasses.replace(events.payment_failed("t1"), attempt_count=2))
    await consume(world, dataclasses.replace(late_copy, id=uuid.uuid4()))  # older: dropped
    assert await drain(world) == ["sent"]
    texts = [m.text for m in world.transport.sent]
    assert ["attempt 1." in texts[0], "attempt 2." in texts[1]] == [True, True]


async def test_no_payment_failed_mail_after_the_invoice_was_paid_and_one_recovered_mail(
    world: World, events: Events
) -> None:
    await consume(world, events.customer("t1"))
    await consume(world, events.payment_failed("t1"))
    world.clock.advance(60)
    await consume(world, events.paid("t1"))
    assert await drain(world) == ["skipped", "sent"]
    [mail] = world.transport.sent
    assert mail.kind is MailKind.PAYMENT_RECOVERED
    entries = {
        e.kind: e for e in (await world.uow().sends.entries(tenant_id="t1", kind=None, limit=9))
    }
    assert entries[MailKind.PAYMENT_FAILED].last_error == "the invoice is no longer unpaid"


async def test_a_paid_invoice_that_never_failed_sends_nothing(world: World, events: Events) -> None:
    await consume(world, events.customer("t1"))
    await consume(world, events.paid("t1"))
    assert await drain(world) == []


async def test_trial_ending_says_add_a_card_and_is_not_sent_after_conversion(
    world: World, events: Events
) -> None:
    await consume(world, events.customer("t1", locales=("fr-FR",)))
    trial_end = world.clock.now().replace(day=3, month=12)
    await consume(
        world,
        events.subscription(
            ev.SubscriptionTrialWillEnd,
            "t1",
            status=SubscriptionStatus.TRIALING,
            trial_end=trial_end,
        ),
    )
    assert await drain(world) == ["sent"]
    [mail] = world.transport.sent
    assert "Ajouter une carte" in mail.html  # French, and no card on file
    assert "3 décembre 2026" in mail.text

    await consume(world, events.customer("t2"))
    await consume(
        world,
        events.subscription(
            ev.SubscriptionTrialWillEnd,
            "t2",
            status=SubscriptionStatus.TRIALING,
            trial_end=trial_end,
        ),
    )
    world.clock.advance(1)
    await consume(world, events.subscription(ev.SubscriptionUpdated, "t2"))  # converted
    assert await drain(world) == ["skipped"]


async def test_cancellation_plan_change_and_end(world: World, events: Events) -> None:
    await consume(world, events.customer("t1"))
    await consume(
        world,
        events.subscription(
            ev.SubscriptionCancelScheduled, "t1", source="subscriptions", cancel_at_period_end=True
        ),
    )
    await consume(
        world,
        events.subscription(
            ev.SubscriptionPlanChanged,
            "t1",
            source="subscriptions",
            from_plan=PlanType.TEAM,
            to_plan=PlanType.SOLO,
            effective=PlanChangeEffective.PERIOD_END,
            effective_at=world.clock.now(),
        ),
    )
    await consume(
        world,
        events.subscription(
            ev.SubscriptionCanceled,
            "t1",
            source="subscriptions",
            status=SubscriptionStatus.CANCELED,
        ),
    )
    assert await drain(world) == ["skipped", "sent", "sent"]  # the cancel's state moved on
    kinds = [m.kind for m in world.transport.sent]
    assert kinds == [MailKind.PLAN_CHANGED, MailKind.SUBSCRIPTION_ENDED]
    assert "from Team to Solo" in world.transport.sent[0].text


async def test_a_4xx_is_retried_with_backoff_and_a_5xx_fails(world: World, events: Events) -> None:
    await consume(world, events.customer("t1"))
    await consume(world, events.payment_failed("t1", "in_a"))
    world.transport.defer = 2
    assert await drain(world) == ["deferred"]
    assert await drain(world) == []  # not due yet
    world.clock.advance(5)
    assert await drain(world) == ["deferred"]
    world.clock.advance(10)
    assert await drain(world) == ["sent"]

    await consume(world, events.payment_failed("t1", "in_b"))
    world.transport.reject = 1
    assert await drain(world) == ["failed"]
    failed = [
        e for e in world.db.outbox if isinstance(e, NotificationSent) and e.status == "failed"
    ]
    assert [e.subject_id for e in failed] == ["in_b"]


async def test_a_mail_waits_for_its_recipient(world: World, events: Events) -> None:
    await consume(world, events.payment_failed("t1"))
    assert await drain(world) == ["deferred"]
    await consume(world, events.customer("t1"))
    world.clock.advance(5)
    assert await drain(world) == ["sent"]


async def test_an_older_customer_reading_never_overwrites_a_newer_one(
    world: World, events: Events
) -> None:
    old = events.customer("t1", "old@tenant.example")
    world.clock.advance(10)
    await consume(world, events.customer("t1", "new@tenant.example"))
    await consume(world, old)
    recipient = await world.uow().recipients.get("t1")
    assert recipient is not None
    assert recipient.email == "new@tenant.example"


async def test_an_operators_reminder_sends_the_payment_failed_mail_once_a_day(
    world: World, events: Events
) -> None:
    from billing_domain.operator_events import PaymentReminderRequested

    def reminder() -> PaymentReminderRequested:
        return PaymentReminderRequested(
            id=uuid.uuid4(),
            occurred_at=world.clock.now(),
            tenant_id="t1",
            source="subscriptions",
            causation_id="req_1",
            stripe_invoice_id="in_1",
            requested_by="ops_1",
        )

    await consume(world, events.customer("t1"))
    await consume(world, events.payment_failed("t1"))
    assert await drain(world) == ["sent"]
    await consume(world, reminder())  # the same day: already sent
    assert await drain(world) == []
    world.clock.advance(86400)
    await consume(world, reminder())
    await consume(world, reminder())
    assert await drain(world) == ["sent"]
    assert [m.kind for m in world.transport.sent] == [MailKind.PAYMENT_FAILED] * 2
    world.clock.advance(86400)
    await consume(world, events.paid("t1"))
    await consume(world, reminder())  # nothing owed any more
    assert await drain(world) == ["sent"]  # the recovered mail only
    assert world.transport.sent[-1].kind is MailKind.PAYMENT_RECOVERED


async def test_a_trial_extension_sends_its_new_end(world: World, events: Events) -> None:
    from billing_domain.trial_events import SubscriptionTrialExtended

    await consume(world, events.customer("t1"))
    new_end = world.clock.now() + timedelta(days=10)
    extended = SubscriptionTrialExtended(
        id=uuid.uuid4(),
        occurred_at=world.clock.now(),
        tenant_id="t1",
        source="subscriptions",
        causation_id="req_2",
        stripe_subscription_id="sub_t1",
        stripe_customer_id="cus_t1",
        plan=PlanType.TEAM,
        previous_trial_end=world.clock.now(),
        trial_end=new_end,
        extend_days=10,
        total_extended_days=10,
        reason="onboarding",
        extended_by="ops_1",
    )
    await consume(world, extended)
    await consume(world, extended)
    assert await drain(world) == ["sent"]
    [mail] = world.transport.sent
    assert mail.kind is MailKind.TRIAL_EXTENDED
    assert "December 10, 2026" in mail.text


async def test_upcoming_renewal_only_for_the_configured_intervals_and_can_be_switched_off(
    world: World, events: Events
) -> None:
    from billing_domain.renewal_events import InvoiceUpcoming

    def upcoming(tenant: str, interval: str) -> InvoiceUpcoming:
        return InvoiceUpcoming(
            id=uuid.uuid4(),
            occurred_at=world.clock.now(),
            tenant_id=tenant,
            source="webhooks",
            causation_id=f"evt_up_{tenant}",
            stripe_customer_id=f"cus_{tenant}",
            stripe_subscription_id=f"sub_{tenant}",
            amount_due=120000,
            currency="usd",
            interval=interval,
            renews_at=world.clock.now() + timedelta(days=7),
            stripe_created=world.clock.now(),
        )

    for tenant in ("yearly", "monthly", "off"):
        await consume(world, events.customer(tenant, f"{tenant}@example.com"))
    async with world.uow() as uow:
        await uow.preferences.set(
            "off", MailKind.UPCOMING_RENEWAL, enabled=False, by="u", now=world.clock.now()
        )
        await uow.commit()
    await consume(world, upcoming("yearly", "year"))
    await consume(world, upcoming("monthly", "month"))  # not in RENEWAL_REMINDER_INTERVALS
    await consume(world, upcoming("off", "year"))
    assert sorted(await drain(world)) == ["sent", "skipped"]
    [mail] = world.transport.sent
    assert (mail.to, mail.kind) == ("yearly@example.com", MailKind.UPCOMING_RENEWAL)
    assert "$1,200.00" in mail.text
    assert "for the next year" in mail.text
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
