"""Whole journeys through the real stripe SDK, the hosted pages and the test clock."""

from __future__ import annotations

import pytest
import stripe
from stripe_sandbox.testing import (
    CARD_DECLINED,
    CARD_OK,
    CARD_REQUIRES_ACTION,
    DAY,
    Journey,
    expanded,
    present,
    stripe_id,
)

pytestmark = pytest.mark.e2e


async def test_checkout_with_trial_starts_trialing(journey: Journey) -> None:
    session = await journey.checkout("team_monthly", trial_days=14)
    assert session.url.endswith(f"/checkout/{session.id}")
    page = await journey.http.get(f"/checkout/{session.id}")
    assert page.status_code == 200
    assert "14-day free trial" in page.text

    response = await journey.pay(session)

    assert response.status_code == 303
    assert response.headers["location"] == (
        f"https://app.example/billing/success?session_id={session.id}"
    )
    done = await journey.client.v1.checkout.sessions.retrieve_async(
        session.id, params={"expand": ["subscription", "line_items"]}
    )
    assert present(present(done.line_items).data[0].price).lookup_key == "team_monthly"
    assert done.status == "complete"
    assert done.payment_status == "no_payment_required"
    sub = expanded(done.subscription, stripe.Subscription)
    assert sub.status == "trialing"
    assert present(sub.trial_end) - present(sub.trial_start) == 14 * DAY
    assert sub.items.data[0].current_period_end == sub.trial_end
    assert sub.metadata["tenant_id"] == "t-1"
    types = await journey.event_types()
    assert "checkout.session.completed" in types
    assert "customer.subscription.created" in types


async def test_paid_checkout_activates(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")

    assert sub.status == "active"
    invoice = await journey.client.v1.invoices.retrieve_async(stripe_id(sub.latest_invoice))
    assert invoice.status == "paid"
    assert invoice.amount_paid == 900
    assert invoice.billing_reason == "subscription_create"
    assert present(invoice.hosted_invoice_url).endswith(f"/invoice/{invoice.id}")
    session = (
        await journey.client.v1.checkout.sessions.list_async(params={"subscription": sub.id})
    ).data[0]
    assert (session.status, session.payment_status) == ("complete", "paid")
    types = await journey.event_types()
    for expected in (
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.updated",
        "checkout.session.completed",
    ):
        assert expected in types


async def test_declined_card_keeps_session_open(journey: Journey) -> None:
    session = await journey.checkout("solo_monthly")

    response = await journey.pay(session, CARD_DECLINED)

    assert response.status_code == 402
    assert "Your card was declined." in response.text
    again = await journey.client.v1.checkout.sessions.retrieve_async(session.id)
    assert again.status == "open"
    assert again.subscription is None
    subs = await journey.client.v1.subscriptions.list_async(params={"status": "all"})
    assert subs.data == []


async def test_card_requiring_action_is_authenticated_on_the_checkout_page(
    journey: Journey,
) -> None:
    session = await journey.checkout("solo_monthly")

    response = await journey.pay(session, CARD_REQUIRES_ACTION)

    assert response.status_code == 303
    assert response.headers["location"] == f"/checkout/{session.id}/authenticate"
    page = await journey.http.get(response.headers["location"])
    assert page.status_code == 200
    assert "Complete authentication" in page.text
    assert "Fail authentication" in page.text
    waiting = await journey.client.v1.checkout.sessions.retrieve_async(session.id)
    assert (waiting.status, waiting.subscription) == ("open", None)

    done = await journey.authenticate(session, "complete")

    assert done.status_code == 303
    assert done.headers["location"].endswith(f"?session_id={session.id}")
    paid = await journey.client.v1.checkout.sessions.retrieve_async(
        session.id, params={"expand": ["subscription.latest_invoice"]}
    )
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    subscription = expanded(paid.subscription, stripe.Subscription)
    assert subscription.status == "active"
    assert expanded(subscription.latest_invoice, stripe.Invoice).status == "paid"
    types = await journey.event_types()
    assert "checkout.session.completed" in types
    assert not [t for t in types if "async_payment" in t]  # for delayed methods only


async def test_failed_authentication_leaves_the_session_open_with_an_error(
    journey: Journey,
) -> None:
    session = await journey.checkout("solo_monthly")
    await journey.pay(session, CARD_REQUIRES_ACTION)

    failed = await journey.authenticate(session, "fail")

    assert failed.status_code == 402
    assert "unable to authenticate your payment method" in failed.text
    still = await journey.client.v1.checkout.sessions.retrieve_async(session.id)
    assert (still.status, still.payment_status, still.subscription) == ("open", "unpaid", None)
    assert (await journey.client.v1.subscriptions.list_async(params={"status": "all"})).data == []
    # The step is over: a second answer has nothing to authenticate.
    again = await journey.authenticate(session, "complete")
    assert again.status_code == 400
    # Another card still works.
    assert (await journey.pay(session, CARD_OK)).status_code == 303


async def test_authentication_step_refuses_hostile_input(journey: Journey) -> None:
    session = await journey.checkout("solo_monthly")
    nothing_pending = await journey.authenticate(session, "complete")
    assert nothing_pending.status_code == 400
    assert (await journey.http.get(f"/checkout/{session.id}/authenticate")).status_code == 400
    await journey.pay(session, CARD_REQUIRES_ACTION)
    for bad in ("", "COMPLETE", "<script>", "complete' OR 1=1"):
        response = await journey.authenticate(session, bad)
        assert response.status_code == 400, bad
        assert "<script>" not in response.text
    unknown = await journey.http.post(
        "/checkout/cs_test_nope/authenticate", data={"result": "complete"}
    )
    assert unknown.status_code == 404
    # Still pending after the refused answers; an expired session cannot be completed.
    await journey.client.v1.checkout.sessions.expire_async(session.id)
    assert (await journey.authenticate(session, "complete")).status_code == 400


async def test_renewal_with_a_card_requiring_action_asks_for_authentication(
    journey: Journey,
) -> None:
    sub = await journey.subscribe("solo_monthly", card=CARD_REQUIRES_ACTION)
    assert sub.status == "active"
    period_end = sub.items.data[0].current_period_end

    await journey.advance(period_end - sub.created + 3600 + 60)

    renewed = await journey.client.v1.subscriptions.retrieve_async(
        sub.id, params={"expand": ["latest_invoice"]}
    )
    assert renewed.status == "past_due"
    assert expanded(renewed.latest_invoice, stripe.Invoice).status == "open"
    types = await journey.event_types()
    assert "invoice.payment_action_required" in types
    intents = await journey.client.v1.events.list_async(
        params={"type": "payment_intent.requires_action"}
    )
    assert [e.data.object.status for e in intents.data] == ["requires_action"]
    assert intents.data[0].data.object.next_action.type == "use_stripe_sdk"

    # The customer authenticates on the hosted invoice page (on-session): paid.
    page = await journey.http.post(
        f"/invoice/{stripe_id(renewed.latest_invoice)}/pay", data={"card": CARD_REQUIRES_ACTION}
    )
    assert page.status_code == 303
    assert "error" not in page.headers["location"]
    recovered = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert recovered.status == "active"
    assert "payment_intent.succeeded" in await journey.event_types()


async def test_cancel_at_period_end_then_clock_passes_period_end(journey: Journey) -> None:
    sub = await journey.subscribe("team_monthly")
    period_end = sub.items.data[0].current_period_end

    updated = await journey.client.v1.subscriptions.update_async(
        sub.id, params={"cancel_at_period_end": True}
    )
    assert updated.cancel_at_period_end is True
    assert updated.cancel_at == period_end
    assert updated.status == "active"

    await journey.advance(period_end - updated.created + 60)

    ended = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert ended.status == "canceled"
    assert ended.ended_at == period_end
    deleted = await journey.client.v1.events.list_async(
        params={"type": "customer.subscription.deleted"}
    )
    assert [e.data.object.id for e in deleted.data] == [sub.id]
    invoices = await journey.client.v1.invoices.list_async(params={"subscription": sub.id})
    assert len(invoices.data) == 1  # no renewal invoice for a canceled subscription


async def test_upgrade_preview_matches_the_update(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    team = await journey.price("team_monthly")
    await journey.advance(10 * DAY)
    item = sub.items.data[0]
    proration_date = item.current_period_start + 10 * DAY + 5

    preview = await journey.client.v1.invoices.create_preview_async(
        params={
            "customer": sub.customer,
            "subscription": sub.id,
            "subscription_details": {
                "items": [{"id": item.id, "price": team.id}],
                "proration_date": proration_date,
                "proration_behavior": "always_invoice",
            },
        }
    )
    prorations = [line for line in preview.lines.data if _proration(line)]
    assert len(prorations) == 2
    period = item.current_period_end - item.current_period_start
    remaining = item.current_period_end - proration_date
    credit, debit = sorted(line.amount for line in prorations)
    assert credit == -round(900 * remaining / period)
    assert debit == round(2900 * remaining / period)
    assert preview.amount_due == credit + debit

    updated = await journey.client.v1.subscriptions.update_async(
        sub.id,
        params={
            "items": [{"id": item.id, "price": team.id}],
            "proration_behavior": "always_invoice",
            "proration_date": proration_date,
            "expand": ["latest_invoice"],
        },
    )

    assert updated.items.data[0].id == item.id
    assert updated.items.data[0].price.id == team.id
    latest = expanded(updated.latest_invoice, stripe.Invoice)
    assert latest.billing_reason == "subscription_update"
    assert latest.amount_paid == preview.amount_due
    assert latest.status == "paid"


async def test_create_prorations_land_on_next_invoice(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    team = await journey.price("team_monthly")
    item = sub.items.data[0]
    when = item.current_period_start + 15 * DAY
    items: list[stripe.params.SubscriptionUpdateParamsItem] = [{"id": item.id, "price": team.id}]
    preview = await journey.client.v1.invoices.create_preview_async(
        params={
            "subscription": sub.id,
            "subscription_details": {"items": items, "proration_date": when},
        }
    )
    await journey.client.v1.subscriptions.update_async(
        sub.id, params={"items": items, "proration_date": when}
    )
    await journey.advance(item.current_period_end - sub.created + 3600 + 10)

    renewed = await journey.client.v1.subscriptions.retrieve_async(
        sub.id, params={"expand": ["latest_invoice"]}
    )
    latest = expanded(renewed.latest_invoice, stripe.Invoice)
    assert latest.billing_reason == "subscription_cycle"
    assert latest.amount_due == preview.amount_due
    assert latest.status == "paid"
    created = await journey.client.v1.events.list_async(params={"type": "invoiceitem.created"})
    ids = {e.data.object.id for e in created.data}
    assert len(ids) == 2  # the proration credit and debit are pending invoice items
    assert {
        present(present(line.parent).subscription_item_details).invoice_item
        for line in latest.lines.data
        if _proration(line)
    } == ids


async def test_downgrade_via_schedule_applies_at_period_end(journey: Journey) -> None:
    sub = await journey.subscribe("enterprise_monthly")
    solo = await journey.price("solo_monthly")
    enterprise = await journey.price("enterprise_monthly")
    item = sub.items.data[0]

    schedule = await journey.client.v1.subscription_schedules.create_async(
        params={"from_subscription": sub.id}
    )
    assert schedule.status == "active"
    assert schedule.phases[0].end_date == item.current_period_end
    schedule = await journey.client.v1.subscription_schedules.update_async(
        schedule.id,
        params={
            "end_behavior": "release",
            "phases": [
                {
                    "items": [{"price": enterprise.id, "quantity": 1}],
                    "start_date": schedule.phases[0].start_date,
                    "end_date": schedule.phases[0].end_date,
                },
                {
                    "items": [{"price": solo.id, "quantity": 1}],
                    "duration": {"interval": "month", "interval_count": 1},
                },
            ],
        },
    )
    assert [p.items[0].price for p in schedule.phases] == [enterprise.id, solo.id]
    still = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert still.items.data[0].price.id == enterprise.id
    assert still.schedule == schedule.id
    upcoming = await journey.client.v1.invoices.create_preview_async(
        params={"subscription": sub.id}
    )
    assert upcoming.amount_due == 900  # the next invoice already follows the schedule

    await journey.advance(item.current_period_end - sub.created + 3600 + 60)

    downgraded = await journey.client.v1.subscriptions.retrieve_async(
        sub.id, params={"expand": ["latest_invoice"]}
    )
    assert downgraded.items.data[0].price.id == solo.id
    assert expanded(downgraded.latest_invoice, stripe.Invoice).amount_paid == 900
    assert downgraded.status == "active"

    # After the last phase the schedule completes and lets the subscription go on.
    await journey.advance(32 * DAY)
    done = await journey.client.v1.subscription_schedules.retrieve_async(schedule.id)
    assert done.status == "completed"
    assert done.released_subscription == sub.id
    free = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert free.schedule is None
    assert free.status == "active"


async def test_release_schedule(journey: Journey) -> None:
    sub = await journey.subscribe("team_monthly")
    schedule = await journey.client.v1.subscription_schedules.create_async(
        params={"from_subscription": sub.id}
    )
    released = await journey.client.v1.subscription_schedules.release_async(schedule.id)
    assert released.status == "released"
    assert released.released_subscription == sub.id
    again = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert again.schedule is None


async def test_failing_renewal_goes_past_due_until_card_fixed(journey: Journey) -> None:
    # 4000 0000 0000 0341 attaches fine (trial, nothing charged) and fails every charge.
    sub = await journey.subscribe("team_monthly", trial_days=7, card=CARD_DECLINED)
    assert sub.status == "trialing"

    await journey.advance(7 * DAY + 3600 + 60)

    failed = await journey.client.v1.subscriptions.retrieve_async(
        sub.id, params={"expand": ["latest_invoice"]}
    )
    assert failed.status == "past_due"
    invoice = expanded(failed.latest_invoice, stripe.Invoice)
    assert invoice.status == "open"
    assert invoice.attempt_count == 1
    assert invoice.amount_due == 2900
    assert invoice.next_payment_attempt is not None
    types = await journey.event_types()
    assert "customer.subscription.trial_will_end" in types
    assert "invoice.payment_failed" in types

    # Stripe's retry (smart retries) fails again.
    await journey.advance_to(present(invoice.next_payment_attempt))
    retried = await journey.client.v1.invoices.retrieve_async(present(invoice.id))
    assert retried.attempt_count == 2

    card = await journey.http.post(
        f"/_sandbox/customers/{sub.customer}/card", json={"card": CARD_OK}
    )
    assert card.status_code == 200
    paid = await journey.client.v1.invoices.pay_async(present(invoice.id))

    assert paid.status == "paid"
    active = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert active.status == "active"
    types = await journey.event_types()
    assert types[-1] in ("invoice.payment_succeeded", "customer.subscription.updated")
    assert "invoice.paid" in types


async def test_dunning_exhausted_cancels(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly", trial_days=3, card=CARD_DECLINED)
    await journey.advance(40 * DAY)
    ended = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert ended.status == "canceled"
    invoice = await journey.client.v1.invoices.retrieve_async(stripe_id(ended.latest_invoice))
    assert invoice.attempt_count == 4
    assert invoice.status == "uncollectible"
    types = await journey.event_types()
    assert "invoice.marked_uncollectible" in types
    assert types.count("charge.failed") == 4
    assert types.count("payment_intent.payment_failed") == 4
    assert "invoice.updated" in types


async def test_renewals_over_three_months(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    await journey.advance(95 * DAY)
    invoices = await journey.client.v1.invoices.list_async(params={"subscription": sub.id})
    reasons = [i.billing_reason for i in reversed(invoices.data)]
    assert reasons == ["subscription_create"] + ["subscription_cycle"] * 3
    assert all(i.status == "paid" for i in invoices.data)
    types = await journey.event_types(type="invoice.upcoming")
    assert len(types) >= 3


async def test_cancel_immediately(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    canceled = await journey.client.v1.subscriptions.cancel_async(sub.id)
    assert canceled.status == "canceled"
    assert "customer.subscription.deleted" in await journey.event_types()


async def test_portal_session_and_page_actions(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    portal = await journey.client.v1.billing_portal.sessions.create_async(
        params={"customer": sub.customer, "return_url": "https://app.example/billing"}
    )
    assert portal.url.endswith(f"/portal/{portal.id}")
    page = await journey.http.get(f"/portal/{portal.id}")
    assert page.status_code == 200
    assert sub.id in page.text

    cancel = await journey.http.post(f"/portal/{portal.id}/cancel", data={"subscription": sub.id})
    assert cancel.status_code == 303
    assert (await journey.client.v1.subscriptions.retrieve_async(sub.id)).cancel_at_period_end
    await journey.http.post(f"/portal/{portal.id}/resume", data={"subscription": sub.id})
    assert not (await journey.client.v1.subscriptions.retrieve_async(sub.id)).cancel_at_period_end

    team = await journey.price("team_monthly")
    await journey.http.post(
        f"/portal/{portal.id}/plan", data={"subscription": sub.id, "price": team.id}
    )
    changed = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert changed.items.data[0].price.id == team.id


async def test_customer_search_by_tenant(journey: Journey) -> None:
    await journey.client.v1.customers.create_async(params={"metadata": {"tenant_id": "a"}})
    wanted = await journey.client.v1.customers.create_async(params={"metadata": {"tenant_id": "b"}})
    found = await journey.client.v1.customers.search_async(
        params={"query": "metadata['tenant_id']:'b'"}
    )
    assert [c.id for c in found.data] == [wanted.id]


async def test_seeded_prices(journey: Journey) -> None:
    prices = await journey.client.v1.prices.list_async(
        params={
            "lookup_keys": ["solo_monthly", "team_monthly", "enterprise_monthly"],
            "expand": ["data.product"],
        }
    )
    assert sorted(present(p.lookup_key) for p in prices.data) == [
        "enterprise_monthly",
        "solo_monthly",
        "team_monthly",
    ]
    assert all(present(p.recurring).interval == "month" for p in prices.data)
    assert all(expanded(p.product, stripe.Product).object == "product" for p in prices.data)


async def test_expire_checkout_session(journey: Journey) -> None:
    session = await journey.checkout("solo_monthly")
    expired = await journey.client.v1.checkout.sessions.expire_async(session.id)
    assert expired.status == "expired"
    response = await journey.pay(session)
    assert response.status_code == 400


async def test_unauthenticated_first_payment_expires_after_23_hours(journey: Journey) -> None:
    customer = await journey.client.v1.customers.create_async()
    await journey.http.post(
        f"/_sandbox/customers/{customer.id}/card", json={"card": CARD_REQUIRES_ACTION}
    )
    solo = await journey.price("solo_monthly")
    created = await journey.client.v1.subscriptions.create_async(
        params={"customer": customer.id, "items": [{"price": solo.id}]}
    )
    assert created.status == "incomplete"

    await journey.advance(24 * 3600)

    sub = await journey.client.v1.subscriptions.retrieve_async(created.id)
    assert sub.status == "incomplete_expired"
    invoice = await journey.client.v1.invoices.retrieve_async(stripe_id(sub.latest_invoice))
    assert invoice.status == "void"
    types = await journey.event_types()
    assert "invoice.voided" in types
    assert "payment_intent.canceled" in types


async def test_renewal_invoice_is_a_draft_for_an_hour_then_paid(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    period_end = sub.items.data[0].current_period_end
    clock = await journey.client.v1.test_helpers.test_clocks.create_async(
        params={"frozen_time": sub.created}
    )
    await journey.client.v1.test_helpers.test_clocks.advance_async(
        clock.id, params={"frozen_time": period_end + 60}
    )
    renewed = await journey.client.v1.subscriptions.retrieve_async(
        sub.id, params={"expand": ["latest_invoice"]}
    )
    draft = expanded(renewed.latest_invoice, stripe.Invoice)
    assert (draft.status, draft.billing_reason) == ("draft", "subscription_cycle")
    assert draft.automatically_finalizes_at == period_end + 3600
    assert renewed.items.data[0].current_period_start == period_end

    await journey.client.v1.test_helpers.test_clocks.advance_async(
        clock.id, params={"frozen_time": period_end + 2 * 3600}
    )

    paid = await journey.client.v1.invoices.retrieve_async(present(draft.id))
    assert paid.status == "paid"
    events = (await journey.http.get("/v1/events", params={"limit": 100})).json()["data"]
    when = {e["type"]: e["created"] for e in events if e["data"]["object"]["id"] == draft.id}
    assert when["invoice.created"] == period_end
    assert when["invoice.finalized"] == when["invoice.paid"] == period_end + 3600
    types = [e["type"] for e in reversed(events) if e["created"] == period_end + 3600]
    assert types.index("payment_intent.created") < types.index("charge.succeeded")
    assert types.index("payment_intent.succeeded") < types.index("invoice.paid")


async def test_sdk_test_clock_advances_the_sandbox_clock(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    clock = await journey.client.v1.test_helpers.test_clocks.create_async(
        params={"frozen_time": sub.created, "name": "renewal"}
    )
    period_end = sub.items.data[0].current_period_end
    advanced = await journey.client.v1.test_helpers.test_clocks.advance_async(
        clock.id, params={"frozen_time": period_end + 60}
    )
    assert advanced.status == "ready"
    assert advanced.frozen_time >= period_end + 60
    renewed = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert renewed.items.data[0].current_period_start == period_end


async def test_schedule_update_changing_the_running_phase_applies_now(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    team = await journey.price("team_monthly")
    schedule = await journey.client.v1.subscription_schedules.create_async(
        params={"from_subscription": sub.id}
    )
    phase = schedule.phases[0]
    await journey.client.v1.subscription_schedules.update_async(
        schedule.id,
        params={
            "phases": [
                {
                    "items": [{"price": team.id}],
                    "start_date": phase.start_date,
                    "end_date": phase.end_date,
                    "proration_behavior": "none",
                }
            ]
        },
    )
    now = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert now.items.data[0].price.id == team.id


async def test_error_if_incomplete_leaves_the_subscription_unchanged(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly", trial_days=1, card=CARD_DECLINED)
    await journey.advance(2 * DAY)
    team = await journey.price("team_monthly")
    item = sub.items.data[0]
    with pytest.raises(stripe.CardError):
        await journey.client.v1.subscriptions.update_async(
            sub.id,
            params={
                "items": [{"id": item.id, "price": team.id}],
                "proration_behavior": "always_invoice",
                "payment_behavior": "error_if_incomplete",
            },
        )
    same = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert same.items.data[0].price.id == item.price.id


def _proration(line: stripe.InvoiceLineItem) -> bool:
    details = present(line.parent).subscription_item_details
    return present(details).proration
