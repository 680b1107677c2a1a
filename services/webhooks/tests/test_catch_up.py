"""Catch-up with fakes: what is stored, what is left alone, the window it refuses."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from billing_domain.errors import RuleViolated
from billing_platform.testing.clock import FakeClock
from webhooks.catch_up import catch_up
from webhooks.ports import NewStripeEvent

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class FakeStripeEventFeed:
    def __init__(self, bodies: list[bytes]) -> None:
        self.bodies = bodies
        self.asked: list[tuple[int, bool]] = []

    async def created_since(self, created_gte: int, *, undelivered: bool) -> AsyncIterator[bytes]:
        self.asked.append((created_gte, undelivered))
        for body in self.bodies:
            yield body


class FakeStripeEventStore:
    def __init__(self) -> None:
        self.events: dict[str, NewStripeEvent] = {}

    async def add(self, event: NewStripeEvent, now: datetime) -> bool:
        if event.event_id in self.events:
            return False
        self.events[event.event_id] = event
        return True


def _event(event_id: str, event_type: str = "invoice.paid") -> bytes:
    return orjson.dumps(
        {"id": event_id, "object": "event", "type": event_type, "created": 1_790_000_000,
         "livemode": False, "data": {"object": {"id": "in_1", "metadata": {"tenant_id": "t"}}}}
    )  # fmt: skip


async def test_new_events_are_stored_once_and_the_rest_left_alone() -> None:
    store = FakeStripeEventStore()
    await store.add(NewStripeEvent(
        event_id="evt_known", event_type="invoice.paid", tenant_id=None, api_version=None,
        livemode=False, stripe_created_at=NOW, payload=b"{}"), NOW)  # fmt: skip
    feed = FakeStripeEventFeed(
        [
            _event("evt_new"),
            _event("evt_known"),
            _event("evt_new"),  # listed twice (a page boundary moving): stored once
            _event("evt_other", "charge.succeeded"),
            b"not json",
            orjson.dumps({"id": "nope", "type": "invoice.paid"}),
            b'{"id": "evt_nul", "type": "invoice.paid", "created": 1, '
            b'"data": {"object": {"a": "\\u0000"}}}',
        ]
    )
    report = await catch_up(feed, store, FakeClock(NOW), since=timedelta(hours=72))
    assert report.new == ["evt_new"]
    assert (report.seen, report.other_types, report.malformed) == (3, 1, 3)
    assert store.events["evt_new"].tenant_id == "t"
    assert store.events["evt_new"].payload == _event("evt_new")
    assert feed.asked == [(int((NOW - timedelta(hours=72)).timestamp()), False)]


async def test_undelivered_is_passed_on_and_the_window_is_stripes() -> None:
    feed = FakeStripeEventFeed([])
    await catch_up(feed, FakeStripeEventStore(), FakeClock(NOW), since=timedelta(days=30),
                   undelivered=True)  # fmt: skip
    assert feed.asked[0][1] is True
    for since in (timedelta(days=30, seconds=1), timedelta(0), timedelta(hours=-1)):
        with pytest.raises(RuleViolated):
            await catch_up(feed, FakeStripeEventStore(), FakeClock(NOW), since=since)
    assert len(feed.asked) == 1  # nothing listed for a refused window
