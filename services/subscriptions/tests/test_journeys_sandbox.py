"""Journeys against the Stripe sandbox through the HTTP API.

Stripe's side is the sandbox (real SDK, hosted checkout page, test clock). The
webhooks service's side is played by ``WebhooksStandIn``: it reads the new
Stripe events from the sandbox through the one Stripe reader the webhooks service
uses (``billing_platform.stripe_reading``; a service's tests never import another
service) and publishes the billing events webhooks would publish for them
(docs/events.md), delivered shuffled and twice, on the bus this service consumes.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from billing_domain import events as ev
from billing_domain.envelope import IntegrationEvent
from billing_domain.stripe_rules import is_trial
from billing_domain.timestamps import from_unix
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.messaging.message import OutgoingMessage
from billing_platform.settings import BillingSettings
from billing_platform.stripe_reading import (
    CheckoutSessionReading,
    InvoiceReading,
    PriceCatalog,
    id_of,
    read_checkout_session,
    read_invoice,
    read_snapshot,
)
from stripe.params import EventListParams
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.testing import API_KEY, CARD_DECLINED, CARD_OK, DAY
from subscriptions.testing import AppClient, Builders

pytestmark = pytest.mark.e2e


class SandboxClock:
    """Our clock follows the sandbox's (which tests move forward)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class CountingGateway:
    """Wraps the real Stripe gateway and counts calls per method (reads must make none)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return await method(*args, **kwargs)

        return counted


class WebhooksStandIn:
    """Publishes, for each new sandbox event of our customers, the billing event the
    webhooks service would publish, then lets the consumer catch up."""

    def __init__(
        self, client: stripe.StripeClient, bus: InMemoryBus, prices: dict[str, str]
    ) -> None:
        self.client = client
        self.bus = bus
        self.catalog = PriceCatalog(prices)
        self.tenants: dict[str, str] = {}  # customer -> tenant
        self.seen: set[str] = set()
        self.random = random.Random(6)

    async def start(self) -> None:
        self.seen.update(e["id"] for e in await self._newest_first())

    async def _newest_first(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: EventListParams = {"limit": 100}
        while True:
            page = (await self.client.v1.events.list_async(params=params)).to_dict(recursive=True)
            for event in page["data"]:
                if event["id"] in self.seen:
                    return found
                found.append(event)
            if not page["has_more"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]

    async def deliver(self) -> list[IntegrationEvent]:
        stripe_events = await self._newest_first()
        self.seen.update(e["id"] for e in stripe_events)
        billing: list[IntegrationEvent] = []
        for stripe_event in reversed(stripe_events):
            billing.extend(await self._translate(stripe_event))
        shuffled = billing + billing
        self.random.shuffle(shuffled)
        for event in shuffled:
            await self.bus.publish(OutgoingMessage.from_event(event))
        await self.bus.drain()
        return billing

    async def _translate(self, stripe_event: dict[str, Any]) -> list[IntegrationEvent]:
        """The billing events for one Stripe event: Stripe read by the one reader
        (``billing_platform.stripe_reading``), as webhooks reads it; only which event
        class each Stripe event type becomes is written here (docs/events.md)."""
        obj = stripe_event["data"]["object"]
        tenant = self.tenants.get(str(id_of(obj.get("customer"))))
        if tenant is None:
            return []
        header: dict[str, Any] = {
            "tenant_id": tenant,
            "source": "webhooks",
            "causation_id": stripe_event["id"],
            "clock": SandboxClock(),
            "stripe_created": from_unix(stripe_event["created"]),
        }
        kind = stripe_event["type"]
        if kind.startswith("customer.subscription."):
            schedule = None
            if isinstance(obj.get("schedule"), str):  # read at processing time, as webhooks does
                found = await self.client.v1.subscription_schedules.retrieve_async(obj["schedule"])
                schedule = found.to_dict(recursive=True)
            data: dict[str, Any] = ev.snapshot_data(
                read_snapshot(obj, self.catalog, schedule=schedule)
            )
            cls: type[ev.SubscriptionEvent] = (
                ev.SubscriptionTrialWillEnd
                if kind.endswith("trial_will_end")
                else ev.SubscriptionUpdated
            )
            return [ev.new_event(cls, **header, **data)]
        if kind == "checkout.session.completed":
            return self._checkout_completed(read_checkout_session(obj), header)
        if kind in ("invoice.paid", "invoice.payment_failed"):
            return [self._invoice_event(kind, read_invoice(obj), header)]
        return []

    @staticmethod
    def _checkout_completed(
        session: CheckoutSessionReading, header: dict[str, Any]
    ) -> list[IntegrationEvent]:
        if not session.provisions:
            return []
        return [
            ev.new_event(
                ev.CheckoutCompleted,
                **header,
                checkout_session_id=session.session_id,
                stripe_customer_id=session.customer_id,
                stripe_subscription_id=session.subscription_id,
                plan=session.plan_named,
                trial=is_trial(trial_requested=session.trial_requested),
                payment_status=session.payment_status,
                amount=session.amount_total,
                currency=session.currency,
            )
        ]

    @staticmethod
    def _invoice_event(
        kind: str, invoice: InvoiceReading, header: dict[str, Any]
    ) -> IntegrationEvent:
        common = {**header, **invoice.event_data()}
        if kind == "invoice.paid":
            return ev.new_event(ev.InvoicePaid, **common, amount_paid=invoice.amount_paid)
        return ev.new_event(
            ev.InvoicePaymentFailed,
            **common,
            amount_due=invoice.amount_due,
            next_payment_attempt=invoice.next_payment_attempt,
            attempt_count=max(invoice.attempt_count, 1),
        )


class Journey:
    def __init__(
        self,
        api: httpx.AsyncClient,
        sandbox: httpx.AsyncClient,
        client: stripe.StripeClient,
        webhooks: WebhooksStandIn,
        clock: SandboxClock,
        bus: InMemoryBus,
        gateway: CountingGateway,
        token: Any,
        tenant: str,
    ) -> None:
        self.api, self.sandbox, self.client = api, sandbox, client
        self.webhooks, self.clock, self.bus, self.gateway = webhooks, clock, bus, gateway
        self.tenant = tenant
        self.owner = {"Authorization": f"Bearer {token(tenant)}"}
        self.member = {"Authorization": f"Bearer {token(tenant, 'member')}"}
        self.customer_id = ""
        self.subscription_id = ""

    async def subscribe(self, plan: str, *, card: str = CARD_OK, every: str = "monthly") -> None:
        price = (
            await self.client.v1.prices.list_async(params={"lookup_keys": [f"{plan}_{every}"]})
        ).data[0]
        customer = await self.client.v1.customers.create_async(
            params={"email": f"{self.tenant}@example.com", "metadata": {"tenant_id": self.tenant}}
        )
        self.customer_id = customer.id
        self.webhooks.tenants[customer.id] = self.tenant
        session = await self.client.v1.checkout.sessions.create_async(
            params={
                "mode": "subscription",
                "customer": customer.id,
                "line_items": [{"price": price.id, "quantity": 1}],
                "success_url": "https://app.example/billing/success",
                "cancel_url": "https://app.example/billing",
                "client_reference_id": self.tenant,
                "metadata": {"tenant_id": self.tenant, "plan": plan},
                "subscription_data": {"metadata": {"tenant_id": self.tenant}},
            }
        )
        paid = await self.sandbox.post(f"/checkout/{session.id}/pay", data={"card": card})
        assert paid.status_code == 303, paid.text
        done = await self.client.v1.checkout.sessions.retrieve_async(session.id)
        self.subscription_id = str(done.subscription)
        await self.webhooks.deliver()

    async def view(self) -> dict[str, Any]:
        before = len(self.gateway.calls)
        response = await self.api.get("/api/billing/subscription", headers=self.member)
        assert response.status_code == 200, response.text
        assert len(self.gateway.calls) == before  # the read path never calls Stripe
        body: dict[str, Any] = response.json()
        return body

    async def advance(self, seconds: int) -> None:
        moved = await self.sandbox.post("/_sandbox/clock/advance", json={"seconds": seconds})
        assert moved.status_code == 200, moved.text
        self.clock.offset = timedelta(seconds=moved.json()["offset"])
        await self.webhooks.deliver()

    def clock_now(self) -> int:
        return int(self.clock.now().timestamp())

    async def period_end(self) -> int:
        sub = await self.client.v1.subscriptions.retrieve_async(self.subscription_id)
        return int(sub["items"]["data"][0]["current_period_end"])

    async def card(self, number: str) -> None:
        response = await self.sandbox.post(
            f"/_sandbox/customers/{self.customer_id}/card", json={"card": number}
        )
        assert response.status_code == 200, response.text

    async def granted(self) -> str:
        """The plan ``GET /api/billing/entitlements`` grants now (never a Stripe call)."""
        before = len(self.gateway.calls)
        response = await self.api.get("/api/billing/entitlements", headers=self.member)
        assert response.status_code == 200, response.text
        assert len(self.gateway.calls) == before
        plan: str = response.json()["plan"]
        return plan

    def published(self) -> list[str]:
        return [
            message.routing_key.removeprefix("billing.")
            for message in self.bus.published
            if b'"source":"subscriptions"' in message.body and self.tenant.encode() in message.body
        ]


@pytest.fixture
async def journey(
    app_client: AppClient,
    stripe_sandbox: RunningSandbox,
    sandbox_prices: dict[str, str],
    token: Any,
    build: type[Builders],
) -> AsyncIterator[Journey]:
    from subscriptions.bootstrap import build_gateway

    settings = BillingSettings(
        stripe_api_key=API_KEY,
        stripe_api_base=stripe_sandbox.url,
        stripe_price_solo=sandbox_prices["solo"],
        stripe_price_team=sandbox_prices["team"],
        stripe_price_enterprise=sandbox_prices["enterprise"],
    )
    gateway = CountingGateway(build_gateway(settings))
    client = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": stripe_sandbox.url},
        http_client=stripe.HTTPXClient(),
        max_network_retries=0,
    )
    bus = InMemoryBus()
    clock = SandboxClock()
    webhooks = WebhooksStandIn(client, bus, sandbox_prices)
    await webhooks.start()
    async with (
        httpx.AsyncClient(
            base_url=stripe_sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
        ) as sandbox,
        app_client(gateway=gateway, clock=clock, bus=bus) as (api, _),
    ):
        offset = (await sandbox.get("/_sandbox/clock")).json()["offset"]
        clock.offset = timedelta(seconds=offset)
        yield Journey(api, sandbox, client, webhooks, clock, bus, gateway, token, build.tenant())
    await bus.close()


async def test_cancel_at_period_end_then_free(journey: Journey) -> None:
    await journey.subscribe("team")
    view = await journey.view()
    assert (view["plan_type"], view["status"]) == ("team", "active")
    assert view["current_period_end"] is not None

    canceled = await journey.api.delete("/api/billing/subscription", headers=journey.owner)
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["cancel_at_period_end"] is True
    assert (await journey.view())["cancel_at_period_end"] is True  # before any webhook
    sub = await journey.client.v1.subscriptions.retrieve_async(journey.subscription_id)
    assert sub.cancel_at_period_end is True

    await journey.webhooks.deliver()  # Stripe's confirmation changes nothing
    assert (await journey.view())["cancel_at_period_end"] is True

    await journey.advance(await journey.period_end() - journey.clock_now() + 60)
    view = await journey.view()
    assert (view["plan_type"], view["status"], view["cancel_at_period_end"]) == (
        "free",
        "canceled",
        False,
    )
    assert journey.published() == [
        "subscription.activated",
        "entitlements.changed",
        "subscription.cancel_scheduled",
        "subscription.canceled",
        "entitlements.changed",  # when the cancellation took effect, not when scheduled
    ]


async def test_resume_keeps_the_subscription_renewing(journey: Journey) -> None:
    await journey.subscribe("solo")
    assert (
        await journey.api.delete("/api/billing/subscription", headers=journey.owner)
    ).status_code == 200
    resumed = await journey.api.post("/api/billing/subscription/resume", headers=journey.owner)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["cancel_at_period_end"] is False
    await journey.webhooks.deliver()
    end = await journey.period_end()
    await journey.advance(end - journey.clock_now() + 60)
    view = await journey.view()
    assert (view["plan_type"], view["status"], view["cancel_at_period_end"]) == (
        "solo",
        "active",
        False,
    )
    assert view["current_period_end"] > datetime.fromtimestamp(end, UTC).isoformat()
    assert journey.published() == [
        "subscription.activated",
        "entitlements.changed",
        "subscription.cancel_scheduled",
        "subscription.resumed",
    ]


async def test_upgrade_invoices_what_the_preview_showed(journey: Journey) -> None:
    await journey.subscribe("solo")
    await journey.advance(10 * DAY)
    preview = await journey.api.post(
        "/api/billing/proration", json={"plan": "team"}, headers=journey.owner
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["currency"] == "usd"
    assert 0 < shown["proration_amount"] < 2900 - 900
    assert shown["next_invoice_amount"] == 2900 + shown["proration_amount"]

    await journey.advance(60)  # the user thinks for a minute: the same proration applies
    changed = await journey.api.post(
        "/api/billing/subscription/plan",
        json={"plan": "team", "proration_date": shown["proration_date"]},
        headers=journey.owner,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["effective"], changed.json()["plan_type"]) == ("now", "team")
    await journey.webhooks.deliver()
    assert (await journey.view())["plan_type"] == "team"

    # Stripe finalizes and charges a renewal invoice about an hour after the period changes.
    await journey.advance(await journey.period_end() - journey.clock_now() + 3600 + 60)
    invoices = await journey.client.v1.invoices.list_async(
        params={"subscription": journey.subscription_id}
    )
    renewal = next(i for i in invoices.data if i.billing_reason == "subscription_cycle")
    prorations = [
        line.amount
        for line in renewal.lines.data
        if line.parent is not None
        and line.parent.subscription_item_details is not None
        and line.parent.subscription_item_details.proration
    ]
    assert sum(prorations) == shown["proration_amount"]
    assert renewal.amount_due == shown["next_invoice_amount"]
    assert renewal.status == "paid"
    assert journey.published() == [
        "subscription.activated",
        "entitlements.changed",
        "subscription.plan_changed",
        "entitlements.changed",  # the upgrade, at once
    ]


async def test_downgrade_is_pending_then_applied_at_period_end(journey: Journey) -> None:
    await journey.subscribe("enterprise")
    end = await journey.period_end()
    changed = await journey.api.post(
        "/api/billing/subscription/plan", json={"plan": "solo"}, headers=journey.owner
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["effective"], body["plan_type"]) == ("period_end", "enterprise")
    expected_pending = {
        "plan": "solo",
        "effective_at": datetime.fromtimestamp(end, UTC).isoformat().replace("+00:00", "Z"),
        "interval": "month",
    }
    assert body["pending_plan"] == expected_pending
    await journey.webhooks.deliver()  # the schedule's events keep it pending
    view = await journey.view()
    assert (view["plan_type"], view["pending_plan"]) == ("enterprise", expected_pending)

    await journey.advance(end - journey.clock_now() + 60)
    view = await journey.view()
    assert (view["plan_type"], view["status"], view["pending_plan"]) == ("solo", "active", None)
    invoices = await journey.client.v1.invoices.list_async(
        params={"subscription": journey.subscription_id}
    )
    renewal = next(i for i in invoices.data if i.billing_reason == "subscription_cycle")
    assert renewal.amount_due == 900
    assert journey.published() == [
        "subscription.activated",
        "entitlements.changed",
        "subscription.plan_changed",  # scheduled (period_end)
        "subscription.plan_changed",  # took effect
        "entitlements.changed",  # the downgrade's grant, when it took effect
    ]


async def test_failed_renewal_shows_the_banner_until_paid(journey: Journey) -> None:
    await journey.subscribe("team")
    await journey.card(CARD_DECLINED)
    # The renewal is charged about an hour after the period changes, as on Stripe.
    await journey.advance(await journey.period_end() - journey.clock_now() + 3600 + 60)

    view = await journey.view()
    assert view["status"] == "past_due"
    failed = view["payment_failed"]
    assert failed is not None
    assert (failed["amount_due"], failed["currency"]) == (2900, "usd")
    assert failed["hosted_invoice_url"].startswith("http")
    assert failed["next_payment_attempt"] is not None

    await journey.card(CARD_OK)
    await journey.advance(3 * DAY + 60)  # Stripe's next retry succeeds
    view = await journey.view()
    assert (view["status"], view["payment_failed"], view["plan_type"]) == (
        "active",
        None,
        "team",
    )
    assert journey.published() == ["subscription.activated", "entitlements.changed"]


# -- issue 19: intervals, "when", entitlements; issue 18: Stripe's clock ---------------------


async def test_monthly_to_yearly_now_charges_the_prorated_difference(journey: Journey) -> None:
    await journey.subscribe("team")
    await journey.advance(10 * DAY)
    yearly = {"plan": "team", "interval": "year"}
    preview = await journey.api.post("/api/billing/proration", json=yearly, headers=journey.owner)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert (shown["effective"], shown["interval"]) == ("now", "year")
    assert -2900 < shown["proration_amount"] < 0  # the unused part of the month, credited
    assert shown["next_invoice_amount"] == 29000 + shown["proration_amount"]

    changed = await journey.api.post(
        "/api/billing/subscription/plan",
        json={**yearly, "proration_date": shown["proration_date"]},
        headers=journey.owner,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["effective"], changed.json()["interval"]) == ("now", "year")
    sub = await journey.client.v1.subscriptions.retrieve_async(journey.subscription_id)
    invoice = await journey.client.v1.invoices.retrieve_async(str(sub.latest_invoice))
    assert invoice.status == "paid"
    assert invoice.amount_paid == shown["next_invoice_amount"]  # charged now, as previewed
    await journey.webhooks.deliver()
    view = await journey.view()
    assert (view["plan_type"], view["interval"]) == ("team", "year")
    assert await journey.granted() == "team"
    assert journey.published() == [
        "subscription.activated",
        "entitlements.changed",
        "subscription.plan_changed",  # the price changed; the grant did not
    ]


async def test_yearly_to_monthly_waits_for_the_renewal(journey: Journey) -> None:
    await journey.subscribe("team", every="yearly")
    end = await journey.period_end()
    assert (await journey.view())["interval"] == "year"
    monthly = {"plan": "team", "interval": "month"}
    preview = await journey.api.post("/api/billing/proration", json=monthly, headers=journey.owner)
    assert preview.json()["effective"] == "period_end"
    assert preview.json()["proration_amount"] == 0
    assert preview.json()["next_invoice_amount"] == 2900  # the next invoice at the new price
    changed = await journey.api.post(
        "/api/billing/subscription/plan", json=monthly, headers=journey.owner
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["effective"] == "period_end"
    await journey.webhooks.deliver()
    view = await journey.view()
    assert view["interval"] == "year"
    assert view["pending_plan"] == {
        "plan": "team",
        "interval": "month",
        "effective_at": datetime.fromtimestamp(end, UTC).isoformat().replace("+00:00", "Z"),
    }

    await journey.advance(end - journey.clock_now() + 60)
    view = await journey.view()
    assert (view["plan_type"], view["interval"], view["pending_plan"]) == ("team", "month", None)
    assert await journey.granted() == "team"
    assert journey.published() == [
        "subscription.activated",
        "entitlements.changed",
        "subscription.plan_changed",  # scheduled
        "subscription.plan_changed",  # took effect at the renewal: no grant change
    ]


async def test_team_to_solo_now_when_asked(journey: Journey) -> None:
    await journey.subscribe("team")
    await journey.advance(5 * DAY)
    now = {"plan": "solo", "when": "now"}
    preview = await journey.api.post("/api/billing/proration", json=now, headers=journey.owner)
    assert preview.json()["effective"] == "now"
    assert preview.json()["proration_amount"] < 0  # a credit for the unused team time
    changed = await journey.api.post(
        "/api/billing/subscription/plan",
        json={**now, "proration_date": preview.json()["proration_date"]},
        headers=journey.owner,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["plan_type"], changed.json()["effective"]) == ("solo", "now")
    assert await journey.granted() == "solo"  # at once, before any webhook
    await journey.webhooks.deliver()
    assert await journey.granted() == "solo"
    assert journey.published() == [
        "subscription.activated",
        "entitlements.changed",
        "subscription.plan_changed",
        "entitlements.changed",
    ]


async def test_proration_follows_the_subscriptions_clock_not_ours(journey: Journey) -> None:
    """Issue 18: with the sandbox's clock moved on, our wall clock is before the period's
    start; the preview used it and prorated the whole difference ($70.00). Stripe's now
    for the subscription is its test clock's."""
    await journey.subscribe("team")
    end = await journey.period_end()
    await journey.advance(end - journey.clock_now() + 10 * DAY)
    journey.clock.offset = timedelta(0)  # our clock: the wall clock, behind the sandbox's
    sub = await journey.client.v1.subscriptions.retrieve_async(journey.subscription_id)
    item = sub["items"]["data"][0]
    start, new_end = item["current_period_start"], item["current_period_end"]
    clock_id = sub.test_clock
    assert isinstance(clock_id, str)  # the sandbox puts every customer on its test clock
    frozen = await journey.client.v1.test_helpers.test_clocks.retrieve_async(clock_id)
    preview = await journey.api.post(
        "/api/billing/proration", json={"plan": "enterprise"}, headers=journey.owner
    )
    shown = preview.json()
    assert abs(shown["proration_date"] - frozen.frozen_time) <= 5
    expected = round(7000 * (new_end - frozen.frozen_time) / (new_end - start))
    assert abs(shown["proration_amount"] - expected) <= 10
    assert shown["proration_amount"] < 7000 - 1000  # not the whole difference

    changed = await journey.api.post(
        "/api/billing/subscription/plan",
        json={"plan": "enterprise", "proration_date": shown["proration_date"]},
        headers=journey.owner,
    )
    assert changed.status_code == 200, changed.text
    upcoming = await journey.client.v1.invoices.create_preview_async(
        params={"subscription": journey.subscription_id}
    )
    prorated = sum(
        line.amount
        for line in upcoming.lines.data
        if line.parent is not None
        and line.parent.subscription_item_details is not None
        and line.parent.subscription_item_details.proration
    )
    assert prorated == shown["proration_amount"]  # billed what the preview showed
