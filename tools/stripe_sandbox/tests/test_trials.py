"""Trials as Stripe runs them: no card up front, the end behaviours, trial_end=now, a
moved trial_end and its warning, resuming a paused subscription."""

from __future__ import annotations

import pytest
import stripe
from stripe_sandbox.testing import CARD_DECLINED, CARD_OK, DAY, Journey, expanded, present

pytestmark = pytest.mark.e2e


async def _card(journey: Journey, customer: str, card: str = CARD_OK) -> None:
    response = await journey.http.post(f"/_sandbox/customers/{customer}/card", json={"card": card})
    assert response.status_code == 200, response.text


async def test_a_trial_without_a_card_pauses_at_its_end_and_resumes_when_paid(
    journey: Journey,
) -> None:
    sub = await journey.trial_without_card("team_monthly", trial_days=14)
    assert sub.status == "trialing"
    assert sub.default_payment_method is None
    assert sub.trial_settings.end_behavior.missing_payment_method == "pause"

    await journey.advance(11 * DAY + 60)
    assert (await journey.event_types())[-1] == "customer.subscription.trial_will_end"

    await journey.advance(3 * DAY)
    paused = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert paused.status == "paused"
    assert paused.pause_collection is None  # a paused subscription, not paused collection
    types = await journey.event_types()
    assert "customer.subscription.paused" in types
    invoices = await journey.client.v1.invoices.list_async(params={"subscription": sub.id})
    assert [i.amount_due for i in invoices.data] == [0]  # no invoice at the end

    await journey.advance(40 * DAY)  # nothing renews while paused
    invoices = await journey.client.v1.invoices.list_async(params={"subscription": sub.id})
    assert len(invoices.data) == 1

    await _card(journey, str(sub.customer))
    resumed = await journey.client.v1.subscriptions.resume_async(
        sub.id,
        params={
            "billing_cycle_anchor": {"type": "now"},
            "payment_behavior": "resume_on_payment_success",
        },
    )
    assert resumed.status == "active"
    latest = await journey.client.v1.invoices.retrieve_async(str(resumed.latest_invoice))
    assert (latest.status, latest.amount_paid) == ("paid", 2900)
    assert "customer.subscription.resumed" in await journey.event_types()


async def test_resume_on_payment_success_stays_paused_until_the_invoice_is_paid(
    journey: Journey,
) -> None:
    sub = await journey.trial_without_card("team_monthly", trial_days=3)
    await journey.advance(3 * DAY + 60)
    await _card(journey, str(sub.customer), CARD_DECLINED)
    still = await journey.client.v1.subscriptions.resume_async(
        sub.id, params={"payment_behavior": "resume_on_payment_success"}
    )
    assert still.status == "paused"
    await _card(journey, str(sub.customer))
    paid = await journey.client.v1.invoices.pay_async(str(still.latest_invoice))
    assert paid.status == "paid"
    active = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert active.status == "active"
    assert (await journey.event_types())[-1] == "customer.subscription.resumed"


async def test_only_a_paused_subscription_resumes(journey: Journey) -> None:
    sub = await journey.trial_without_card("team_monthly", trial_days=3)
    with pytest.raises(stripe.InvalidRequestError, match="Only paused subscriptions"):
        await journey.client.v1.subscriptions.resume_async(sub.id)


async def test_a_trial_without_a_card_set_to_cancel_is_canceled_at_its_end(
    journey: Journey,
) -> None:
    sub = await journey.trial_without_card("team_monthly", trial_days=3, end_behavior="cancel")
    await journey.advance(3 * DAY + 60)
    ended = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert ended.status == "canceled"
    assert "customer.subscription.deleted" in await journey.event_types()


async def test_create_invoice_is_the_default_end_behaviour(journey: Journey) -> None:
    session = await journey.checkout(
        "team_monthly", trial_days=3, payment_method_collection="if_required"
    )
    response = await journey.http.post(f"/checkout/{session.id}/pay", data={"card": ""})
    assert response.status_code == 303
    done = await journey.client.v1.checkout.sessions.retrieve_async(session.id)
    assert done.payment_status == "no_payment_required"
    sub = await journey.client.v1.subscriptions.retrieve_async(str(done.subscription))
    assert present(sub.trial_settings).end_behavior.missing_payment_method == "create_invoice"
    await journey.advance(3 * DAY + 3600 + 60)
    after = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert after.status == "past_due"  # the invoice could not be charged


async def test_a_card_is_required_unless_collection_is_if_required(journey: Journey) -> None:
    session = await journey.checkout("team_monthly", trial_days=3)
    response = await journey.http.post(f"/checkout/{session.id}/pay", data={"card": ""})
    assert response.status_code == 400
    page = await journey.http.get(f"/checkout/{session.id}")
    assert "without a card" not in page.text


async def test_checkout_refuses_an_unknown_end_behaviour(journey: Journey) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="missing_payment_method"):
        await journey.checkout(
            "team_monthly",
            subscription_data={
                "trial_period_days": 3,
                "trial_settings": {"end_behavior": {"missing_payment_method": "ignore"}},
            },
        )
    with pytest.raises(stripe.InvalidRequestError, match="payment_method_collection"):
        await journey.checkout("team_monthly", payment_method_collection="sometimes")


async def test_trial_end_now_warns_and_charges_at_once(journey: Journey) -> None:
    sub = await journey.subscribe("team_monthly", trial_days=14)
    converted = await journey.client.v1.subscriptions.update_async(
        sub.id, params={"trial_end": "now", "expand": ["latest_invoice"]}
    )
    assert converted.status == "active"
    invoice = expanded(converted.latest_invoice, stripe.Invoice)
    assert (invoice.status, invoice.amount_paid) == ("paid", 2900)
    item = converted.items.data[0]
    assert item.current_period_end - item.current_period_start >= 28 * DAY
    types = await journey.event_types()
    assert "customer.subscription.trial_will_end" in types
    assert "invoice.paid" in types


async def test_a_moved_trial_end_moves_the_warning_and_prorates_nothing(
    journey: Journey,
) -> None:
    sub = await journey.subscribe("team_monthly", trial_days=14)
    await journey.advance(11 * DAY + 60)
    assert (await journey.event_types()).count("customer.subscription.trial_will_end") == 1

    later = present(sub.trial_end) + 7 * DAY
    moved = await journey.client.v1.subscriptions.update_async(
        sub.id, params={"trial_end": later, "proration_behavior": "none"}
    )
    assert moved.trial_end == later
    assert moved.items.data[0].current_period_end == later
    assert moved.status == "trialing"
    await journey.advance(6 * DAY)  # 4 days before the new end: no second warning yet
    assert (await journey.event_types()).count("customer.subscription.trial_will_end") == 1
    await journey.advance(DAY)  # 3 days before: the warning for the new end
    assert (await journey.event_types()).count("customer.subscription.trial_will_end") == 2
    await journey.advance(3 * DAY + 3600 + 60)
    invoices = await journey.client.v1.invoices.list_async(params={"subscription": sub.id})
    assert sorted(i.amount_due for i in invoices.data) == [0, 2900]  # no proration


async def test_a_trial_shortened_below_three_days_warns_at_once(journey: Journey) -> None:
    sub = await journey.subscribe("team_monthly", trial_days=14)
    now = (await journey.http.get("/_sandbox/clock")).json()["now"]
    await journey.client.v1.subscriptions.update_async(
        sub.id, params={"trial_end": now + DAY, "proration_behavior": "none"}
    )
    assert (await journey.event_types())[-2:].count("customer.subscription.trial_will_end") == 1


async def test_trial_end_in_the_past_or_on_an_active_subscription_is_refused(
    journey: Journey,
) -> None:
    sub = await journey.subscribe("team_monthly", trial_days=14)
    now = (await journey.http.get("/_sandbox/clock")).json()["now"]
    with pytest.raises(stripe.InvalidRequestError, match="future"):
        await journey.client.v1.subscriptions.update_async(sub.id, params={"trial_end": now - DAY})
    active = await journey.subscribe("solo_monthly")
    with pytest.raises(stripe.InvalidRequestError, match="trial_end"):
        await journey.client.v1.subscriptions.update_async(
            active.id, params={"trial_end": now + DAY}
        )
