"""Signed but arbitrary Stripe events: official object fixtures with fields replaced by
random JSON (strings with NUL, huge numbers, wrong types, nesting). The endpoint answers
200 (stored) or 400 ``malformed_event`` (nothing stored), never a 5xx; the worker
claims every stored event and keeps running (a good event sent afterwards is processed),
and the subscriptions read API still answers for the tenants the events named.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from billing_cli.testing.in_process import Running, Tokens, Webhooks
from billing_platform.testing.stripe_fixtures import stripe_fixture
from billing_platform.testing.waiting import wait_until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:8]
PREFIX = f"evt_fuzz{RUN}_"
IDS = itertools.count()
TENANTS = [f"tenant_fuzz{RUN}_{n}" for n in range(3)]
FIXTURE_OF = {
    "customer.subscription.": "subscription",
    "checkout.session.": "checkout.session",
    "invoice.": "invoice",
    "customer.": "customer",
    "subscription_schedule.": "subscription_schedule",
}
TYPES = [
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "checkout.session.completed",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_action_required",
    "customer.created",
    "subscription_schedule.updated",
    "subscription_schedule.released",
]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "\x00", "sub_x", "cus_x", "price_x", "active", "solo", "team"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _object_of(event_type: str) -> dict[str, Any]:
    name = next(name for prefix, name in FIXTURE_OF.items() if event_type.startswith(prefix))
    return stripe_fixture(name)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(st.sampled_from(TYPES))
    obj = _object_of(event_type)
    obj["metadata"] = {"tenant_id": draw(st.sampled_from(TENANTS))}
    for key in draw(st.lists(st.sampled_from(sorted(obj)), max_size=4, unique=True)):
        obj[key] = draw(JSON)
    return {
        "object": "event",
        "type": event_type,
        "created": draw(st.integers(min_value=1, max_value=2**34 - 1)),
        "api_version": "2025-08-27.basil",
        "livemode": False,
        "data": {"object": obj},
    }


FIXTURE_PRICE = "price_1PgafmB7WZ01zgkW6dKueIc5"  # the fixtures' price; ours instead


async def post(
    running: Running, webhooks: Webhooks, event: dict[str, Any], price: str = FIXTURE_PRICE
) -> httpx.Response:
    payload = json.dumps(event).replace(FIXTURE_PRICE, price).encode()
    response: httpx.Response = await running.clients["webhooks"].post(
        "/api/webhooks/stripe", content=payload, headers=webhooks.signed(payload)
    )
    return response


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(event=events())
async def test_arbitrary_signed_events_are_stored_or_refused(
    running: Running, webhooks: Webhooks, hostile_prices: dict[str, str], event: dict[str, Any]
) -> None:
    event["id"] = f"{PREFIX}{next(IDS)}"
    response = await post(running, webhooks, event, hostile_prices["team"])
    stored = await running.fetchval(
        "SELECT count(*) FROM webhooks.stripe_webhook_events_log WHERE event_id = $1", event["id"]
    )
    if response.status_code == 400:
        assert response.json()["error"]["code"] == "malformed_event", response.text
        assert stored == 0
    else:
        assert response.status_code == 200, response.text
        assert stored == 1


async def test_the_worker_claimed_every_fuzzed_event_and_still_works(
    running: Running, webhooks: Webhooks, tokens: Tokens
) -> None:
    """Runs after the fuzz above (same module, same apps)."""

    async def waiting() -> int:
        count: int = await running.fetchval(
            "SELECT count(*) FROM webhooks.stripe_webhook_events_log "
            "WHERE event_id LIKE $1 AND status = 'pending'",
            PREFIX + "%",
        )
        return count

    assert await running.fetchval(
        "SELECT count(*) FROM webhooks.stripe_webhook_events_log WHERE event_id LIKE $1",
        PREFIX + "%",
    ), "the fuzz stored nothing"
    assert await wait_until(lambda: _zero(waiting), timeout=30), await waiting()
    good = webhooks.event({"id": "plan_after_fuzz", "object": "plan"}, "plan.created")  # ignored
    assert (await post(running, webhooks, good)).status_code == 200

    async def processed() -> bool:
        status = await running.fetchval(
            "SELECT status FROM webhooks.stripe_webhook_events_log WHERE event_id = $1",
            good["id"],
        )
        return bool(status == "processed")

    assert await wait_until(processed, timeout=30)
    for tenant in TENANTS:  # whatever reached the projection, it still reads
        read = await running.gateway.get(
            "/api/billing/subscription", headers=tokens.header(tokens.valid(tenant, "member"))
        )
        assert read.status_code == 200, read.text
        assert read.json()["tenant_id"] == tenant


async def _zero(count: Callable[[], Awaitable[int]]) -> bool:
    return await count() == 0
