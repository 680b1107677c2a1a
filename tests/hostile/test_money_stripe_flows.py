"""Money taken by replaying the API with values it never offered (issue 15 items 1 and 3).

The whole loop runs: checkout through the gateway, payment on the sandbox's hosted page,
the sandbox's Stripe events signed and posted to the webhooks service, its billing events
on the bus, the subscriptions and checkout projections. Then the attacks:

- a free upgrade: a plan change sent with a ``proration_date`` of the client's choosing
  (the period's last two minutes, or a date issued to another tenant) -> 422
  ``proration_date_not_issued``, and Stripe's subscription is unchanged;
- a second trial: trial, cancel, the subscription ends, a new trial checkout -> 409
  ``trial_already_used``, and no Checkout session is opened at Stripe.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from billing_cli.testing.in_process import Running, Tokens, Webhooks
from stripe_sandbox.testing import API_KEY

pytestmark = pytest.mark.e2e

WAIT_S = 15.0


class Tenant:
    """One tenant driven through the gateway, Stripe's side read from the sandbox."""

    def __init__(self, running: Running, tokens: Tokens, webhooks: Webhooks) -> None:
        self.running, self.webhooks = running, webhooks
        self.id: str = tokens.new_tenant()
        self.owner = tokens.header(tokens.valid(self.id, "owner"))
        self.stripe = httpx.AsyncClient(
            base_url=running.sandbox_url, headers={"Authorization": f"Bearer {API_KEY}"}
        )
        self.forwarded: set[str] = set()

    async def checkout(self, key: str | None = None, **body: Any) -> httpx.Response:
        headers = self.owner if key is None else {**self.owner, "Idempotency-Key": key}
        response: httpx.Response = await self.running.gateway.post(
            "/api/billing/checkout", json=body, headers=headers
        )
        return response

    async def subscribe(self, plan: str, *, trial: bool = False) -> str:
        """Checkout, pay on the hosted page, let Stripe's events flow; the subscription id."""
        started = await self.checkout(plan=plan, trial=trial)
        assert started.status_code == 200, started.text
        session_id = started.json()["session_id"]
        await self.running.pay(session_id)
        session = (await self.stripe.get(f"/v1/checkout/sessions/{session_id}")).json()
        await self.settle(lambda view: view["plan_type"] == plan)
        return str(session["subscription"])

    async def view(self) -> dict[str, Any]:
        response = await self.running.gateway.get("/api/billing/subscription", headers=self.owner)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def customer_id(self) -> str:
        found = await self.running.fetchval(
            "SELECT stripe_customer_id FROM checkout.billing_customers WHERE tenant_id = $1",
            self.id,
        )
        assert isinstance(found, str)
        return found

    async def forward_events(self) -> None:
        """Post this tenant's new Stripe events, signed, to the webhooks service."""
        customer = await self.customer_id()
        listed = (await self.stripe.get("/v1/events", params={"limit": 100})).json()["data"]
        for event in reversed(listed):
            obj = event["data"]["object"]
            if event["id"] in self.forwarded or customer not in (obj.get("customer"), obj["id"]):
                continue
            payload = json.dumps(event).encode()
            response = await self.running.clients["webhooks"].post(
                "/api/webhooks/stripe", content=payload, headers=self.webhooks.signed(payload)
            )
            assert response.status_code == 200, response.text
            self.forwarded.add(event["id"])

    async def settle(self, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Forward events until the subscription reads as ``done`` wants."""
        deadline = time.monotonic() + WAIT_S
        while True:
            await self.forward_events()
            view = await self.view()
            if done(view) or time.monotonic() > deadline:
                assert done(view), view
                return view
            await asyncio.sleep(0.1)

    async def stripe_subscription(self, subscription_id: str) -> dict[str, Any]:
        response = await self.stripe.get(f"/v1/subscriptions/{subscription_id}")
        found: dict[str, Any] = response.json()
        return found


@pytest.fixture
async def tenant_factory(
    running: Running, tokens: Tokens, webhooks: Webhooks
) -> AsyncIterator[Callable[[], Tenant]]:
    made: list[Tenant] = []

    def make() -> Tenant:
        made.append(Tenant(running, tokens, webhooks))
        return made[-1]

    yield make
    for tenant in made:
        await tenant.stripe.aclose()


def _price_of(subscription: dict[str, Any]) -> str:
    return str(subscription["items"]["data"][0]["price"]["id"])


async def test_a_plan_change_with_a_proration_date_the_server_never_issued_is_refused(
    tenant_factory: Callable[[], Tenant],
) -> None:
    owner, other = tenant_factory(), tenant_factory()
    subscription_id = await owner.subscribe("solo")
    await other.subscribe("solo")
    before = await owner.stripe_subscription(subscription_id)
    period_end = int(before["items"]["data"][0]["current_period_end"])

    preview = await owner.running.gateway.post(
        "/api/billing/proration", json={"plan": "enterprise"}, headers=owner.owner
    )
    assert preview.status_code == 200, preview.text
    theirs = await other.running.gateway.post(
        "/api/billing/proration", json={"plan": "enterprise"}, headers=other.owner
    )
    assert theirs.status_code == 200, theirs.text

    for forged in (period_end - 120, theirs.json()["proration_date"] + 1, period_end - 1):
        refused = await owner.running.gateway.post(
            "/api/billing/subscription/plan",
            json={"plan": "enterprise", "proration_date": forged},
            headers=owner.owner,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "proration_date_not_issued"
    after = await owner.stripe_subscription(subscription_id)
    assert _price_of(after) == _price_of(before)  # Stripe was never asked
    assert (await owner.view())["plan_type"] == "solo"

    # The control: the date the preview issued is accepted.
    changed = await owner.running.gateway.post(
        "/api/billing/subscription/plan",
        json={"plan": "enterprise", "proration_date": preview.json()["proration_date"]},
        headers=owner.owner,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["plan_type"] == "enterprise"


async def test_a_second_trial_after_the_first_ended_is_refused(tenant_factory: Any) -> None:
    tenant = tenant_factory()
    subscription_id = await tenant.subscribe("team", trial=True)
    assert (await tenant.view())["status"] == "trialing"
    canceled = await tenant.running.gateway.delete(
        "/api/billing/subscription", headers=tenant.owner
    )
    assert canceled.status_code == 200, canceled.text
    ended = await tenant.stripe.delete(f"/v1/subscriptions/{subscription_id}")  # as the portal
    assert ended.status_code == 200, ended.text
    await tenant.settle(lambda view: view["plan_type"] == "free")

    customer = await tenant.customer_id()
    listing = {"customer": customer, "limit": 100}
    sessions_before = await tenant.stripe.get("/v1/checkout/sessions", params=listing)
    again = await tenant.checkout(plan="team", trial=True, key="a-second-trial")
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "trial_already_used"
    sessions_after = await tenant.stripe.get("/v1/checkout/sessions", params=listing)
    assert len(sessions_after.json()["data"]) == len(sessions_before.json()["data"])
    recorded = await tenant.running.fetchval(
        "SELECT stripe_customer_id FROM checkout.trials_used WHERE tenant_id = $1", tenant.id
    )
    assert recorded == customer  # the customer is marked too, not only the tenant

    paid = await tenant.checkout(plan="team", key="paid")  # paying for it stays open
    assert paid.status_code == 200, paid.text


async def test_trial_sessions_opened_side_by_side_are_one_trial(tenant_factory: Any) -> None:
    """Open several trial checkouts first, pay them all later: still one trial."""
    tenant = tenant_factory()
    opened = await asyncio.gather(
        *(tenant.checkout(plan="team", trial=True, key=f"tab-{n}") for n in range(4))
    )
    assert [answer.status_code for answer in opened] == [200] * 4, [a.text for a in opened]
    assert len({answer.json()["session_id"] for answer in opened}) == 1
    await tenant.running.pay(opened[0].json()["session_id"])
    # Paid at Stripe, its events not delivered yet: the trial is used already.
    again = await tenant.checkout(plan="team", trial=True, key="tab-after-paying")
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "trial_already_used"
