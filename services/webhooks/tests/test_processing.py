"""The processing use cases through fakes of the ports (no I/O)."""

from datetime import timedelta

import pytest
from billing_domain import events as ev
from billing_domain.errors import Conflict, GatewayUnavailable, NotFound
from billing_domain.webhook_log import FailureClass, WebhookEventStatus
from webhooks.testing import Builders, FakeWorld
from webhooks.use_cases.operations import replay_by_status, replay_event
from webhooks.use_cases.processing import process_next_due

pytestmark = pytest.mark.unit


async def test_duplicates_are_stored_once(world: FakeWorld, build: type[Builders]) -> None:
    event = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    assert await world.ingest(event) is False
    assert await world.ingest(event) is True
    assert len(world.log.rows) == 1


async def test_handled_event_is_processed_into_billing_events(
    world: FakeWorld, build: type[Builders]
) -> None:
    event = build.event("customer.subscription.updated", build.subscription(tenant="tenant_a"))
    await world.ingest(event)
    done = await process_next_due(world.deps())
    assert done is not None
    assert (done.status, done.tenant_id, done.published) == (
        WebhookEventStatus.PROCESSED,
        "tenant_a",
        1,
    )
    [published] = world.published
    assert isinstance(published, ev.SubscriptionUpdated)
    assert world.customers == {"cus_a": "tenant_a"}  # learnt from the object's metadata
    assert await process_next_due(world.deps()) is None


async def test_unknown_event_type_is_ignored_not_retried(
    world: FakeWorld, build: type[Builders]
) -> None:
    await world.ingest(build.event("plan.created", {"id": "plan_1", "object": "plan"}))
    done = await process_next_due(world.deps())
    assert done is not None
    assert done.status is WebhookEventStatus.PROCESSED
    assert world.log.rows[done.event_id].record.note == "ignored"
    assert world.published == []


async def test_tenant_found_through_the_customer_map_or_stripe(
    world: FakeWorld, build: type[Builders]
) -> None:
    world.customers["cus_known"] = "tenant_k"
    await world.ingest(build.event("invoice.paid", build.invoice(customer="cus_known")))
    first = await process_next_due(world.deps())
    assert first is not None
    assert first.tenant_id == "tenant_k"

    world.stripe.objects["cus_remote"] = build.customer("cus_remote", tenant="tenant_r")
    await world.ingest(build.event("invoice.paid", build.invoice(customer="cus_remote")))
    second = await process_next_due(world.deps())
    assert second is not None
    assert second.tenant_id == "tenant_r"
    assert world.customers["cus_remote"] == "tenant_r"
    assert [e.tenant_id for e in world.published] == ["tenant_k", "tenant_r"]


@pytest.mark.parametrize("stripe_knows_customer", [True, False])
async def test_unknown_tenant_is_parked_without_retries(
    world: FakeWorld, build: type[Builders], stripe_knows_customer: bool
) -> None:
    if stripe_knows_customer:
        world.stripe.objects["cus_x"] = build.customer("cus_x", tenant=None)
    await world.ingest(build.event("invoice.payment_failed", build.invoice(customer="cus_x")))
    done = await process_next_due(world.deps())
    assert done is not None
    assert done.status is WebhookEventStatus.PARKED
    assert world.published == []
    world.clock.advance(3600)
    assert await process_next_due(world.deps()) is None  # no retry storm

    # once the mapping exists, an operator replays it
    await world.ingest(build.event("customer.created", build.customer("cus_x", tenant="tenant_x")))
    linked = await process_next_due(world.deps())
    assert linked is not None
    assert linked.status is WebhookEventStatus.PROCESSED
    replayed_ids = await replay_by_status(
        WebhookEventStatus.PARKED, world.uow, world.clock, actor="user_operator"
    )
    assert replayed_ids == [done.event_id]
    assert world.log.replays == [(done.event_id, "user_operator", WebhookEventStatus.PARKED)]
    replayed = await process_next_due(world.deps())
    assert replayed is not None
    assert (replayed.status, replayed.tenant_id) == (WebhookEventStatus.PROCESSED, "tenant_x")
    assert [type(e) for e in world.published] == [ev.CustomerUpdated, ev.InvoicePaymentFailed]


async def test_failures_retry_at_2_4_8_seconds_then_fail_then_replay_succeeds(
    world: FakeWorld, build: type[Builders]
) -> None:
    """A permanent failure (Stripe has no such schedule): the fast lane, then failed."""
    world.stripe.fail_with = NotFound("stripe has no schedule sub_sched_9")
    sub = build.subscription(schedule="sub_sched_9")
    await world.ingest(build.event("customer.subscription.updated", sub))
    deps = world.deps()
    statuses = []
    for wait in (2, 4, 8):
        done = await process_next_due(deps)
        assert done is not None
        statuses.append((done.status, world.log.rows[done.event_id].record.retry_count))
        world.clock.advance(wait - 0.5)
        assert await process_next_due(deps) is None  # not due yet
        world.clock.advance(0.5)
    last = await process_next_due(deps)
    assert last is not None
    assert statuses == [(WebhookEventStatus.RETRYING, n) for n in (1, 2, 3)]
    assert last.status is WebhookEventStatus.FAILED
    record = world.log.rows[last.event_id].record
    assert "stripe has no schedule" in (record.last_error or "")
    assert record.last_error_class is FailureClass.PERMANENT
    assert world.published == []
    assert len(world.stripe.reads) == 4

    world.clock.advance(86400)
    assert await process_next_due(deps) is None  # failed stays failed
    world.stripe.fail_with = None
    world.stripe.objects["sub_sched_9"] = {"id": "sub_sched_9", "status": "released", "phases": []}
    await replay_event(last.event_id, world.uow(), world.clock, actor="user_operator")
    done = await process_next_due(deps)
    assert done is not None
    assert done.status is WebhookEventStatus.PROCESSED
    assert len(world.published) == 1


async def test_stripe_down_for_ten_minutes_of_event_age_fails_nothing(
    world: FakeWorld, build: type[Builders]
) -> None:
    """Stripe answering 500 (GatewayUnavailable, a transient failure) for ten minutes:
    time moves on the FakeClock, the worker runs whenever an event is due; past the fast
    lane the events stay ``retrying`` on the slow lane, none is ``failed``, and once
    Stripe is back each is processed once and publishes its billing event once."""
    world.stripe.fail_with = GatewayUnavailable("Stripe is unavailable (500)")
    events = []
    for n in range(3):
        sub = build.subscription(tenant=f"tenant_{n}", schedule=f"sub_sched_{n}")
        events.append(build.event("customer.subscription.updated", sub))
        world.stripe.objects[f"sub_sched_{n}"] = {"id": f"sub_sched_{n}", "status": "released"}
        await world.ingest(events[-1])
    deps = world.deps()
    start = world.clock.now()
    while world.clock.now() - start < timedelta(minutes=10):
        for _ in events:
            await process_next_due(deps)
        rows = [world.log.rows[event["id"]].record for event in events]
        assert {row.status for row in rows} == {WebhookEventStatus.RETRYING}
        assert {row.last_error_class for row in rows} == {FailureClass.TRANSIENT}
        next_attempts = [row.next_attempt_at for row in rows if row.next_attempt_at]
        assert len(next_attempts) == len(rows)
        world.clock.advance((min(next_attempts) - world.clock.now()).total_seconds())
    assert min(row.retry_count for row in rows) > 3  # well past the fast lane
    world.stripe.fail_with = None
    world.clock.advance(3600)  # at most the slow lane's longest wait
    done = [await process_next_due(deps) for _ in events]
    assert [d.status for d in done if d is not None] == [WebhookEventStatus.PROCESSED] * 3
    assert await process_next_due(deps) is None
    assert sorted(e.tenant_id for e in world.published) == ["tenant_0", "tenant_1", "tenant_2"]


async def test_untranslatable_event_retries_and_publishes_nothing(
    world: FakeWorld, build: type[Builders]
) -> None:
    """An unknown price is a failed attempt (retried, visible), never a guessed plan."""
    sub = build.subscription()
    sub["items"]["data"][0]["price"].update(id="price_unknown", lookup_key=None, metadata={})
    await world.ingest(build.event("customer.subscription.updated", sub))
    done = await process_next_due(world.deps())
    assert done is not None
    assert done.status is WebhookEventStatus.RETRYING
    assert "not one of our plans" in (done.error or "")
    assert world.published == []


async def test_only_failed_or_parked_events_replay(world: FakeWorld, build: type[Builders]) -> None:
    event = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    await world.ingest(event)
    with pytest.raises(Conflict):
        await replay_event(event["id"], world.uow(), world.clock, actor="user_operator")
    await process_next_due(world.deps())
    with pytest.raises(Conflict):
        await replay_event(event["id"], world.uow(), world.clock, actor="user_operator")


async def test_schedule_event_reads_subscription_then_its_schedule(
    world: FakeWorld, build: type[Builders]
) -> None:
    world.customers["cus_a"] = "tenant_a"
    sub = build.subscription(plan="enterprise", schedule="sub_sched_5")
    world.stripe.objects[sub["id"]] = sub
    world.stripe.objects["sub_sched_5"] = {
        "id": "sub_sched_5",
        "status": "active",
        "current_phase": {"start_date": 1, "end_date": 1_800_000_000},
        "phases": [{"start_date": 1_800_000_000, "items": [{"price": "price_solo"}]}],
    }
    schedule_event = {"id": "sub_sched_5", "object": "subscription_schedule", "customer": "cus_a"}
    schedule_event["subscription"] = sub["id"]
    await world.ingest(build.event("subscription_schedule.updated", schedule_event))
    done = await process_next_due(world.deps())
    assert done is not None
    assert done.status is WebhookEventStatus.PROCESSED
    assert world.stripe.reads == [sub["id"], "sub_sched_5"]
    [published] = world.published
    assert isinstance(published, ev.SubscriptionUpdated)
    assert published.pending_plan is not None
    assert published.pending_plan.value == "solo"


async def test_a_failed_invoice_payment_is_published_with_its_decline_read_from_stripe(
    world: FakeWorld, build: type[Builders]
) -> None:
    world.customers["cus_d"] = "tenant_d"
    invoice = build.invoice(customer="cus_d")
    method = {"id": "pm_d", "card": {"brand": "mastercard", "last4": "4444"}}
    error = {
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "payment_method": method,
    }
    intent = {"id": "pi_d", "status": "requires_payment_method", "last_payment_error": error}
    world.stripe.objects[f"payments:{invoice['id']}"] = {
        "data": [{"is_default": True, "payment": {"payment_intent": intent}}]
    }
    await world.ingest(build.event("invoice.payment_failed", invoice))

    done = await process_next_due(world.deps())

    assert done is not None
    assert done.status is WebhookEventStatus.PROCESSED
    [published] = world.published
    assert isinstance(published, ev.InvoicePaymentFailed)
    assert (published.decline_code, published.card_brand, published.card_last4) == (
        "insufficient_funds",
        "mastercard",
        "4444",
    )
    assert f"payments:{invoice['id']}" in world.stripe.reads
