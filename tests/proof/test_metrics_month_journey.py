"""A scripted month of revenue, end to end (issue 23): the product behind its gateway,
a Stripe sandbox of its own whose clock is advanced through the month, signed webhooks,
real Postgres and RabbitMQ, and ``GET /api/billing/admin/metrics`` at the end.

The world is each test's alone (its own sandbox and database), so the metrics are the
script's and nobody else's, and every expected number is computed below from the
script itself (the prices are read from the sandbox's catalogue, not written down):

- day 0: six tenants subscribe (two solo, three team, one enterprise), two team trials
  start (one with a card, one without), one checkout is opened and abandoned;
- an hour later: one solo tenant upgrades to team (expansion, now), the enterprise
  tenant downgrades to team (contraction, at its renewal), one team tenant cancels at
  period end (churn at its renewal), two tenants' cards start to decline;
- the trials end: the one with a card converts (new MRR), the other pauses (lost);
- the renewals: the two declining cards fail; one tenant's card is fixed and the
  operator's retry-payment clears it through the webhook path (a recovery), the other
  stays past due. The failed-payment queue shows exactly the failing tenants.

A copy of every Stripe event delivered again at the end changes no number. And a
renewal failure whose webhooks reach us days late (deliveries off, then ``billing
webhooks catch-up``) lands on the day Stripe says it failed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from billing_cli.main import app as cli
from billing_cli.services import SERVICES
from billing_cli.testing.product import Product
from billing_platform.migrations import upgrade_async
from billing_platform.testing.plugin import throwaway_database
from billing_platform.testing.waiting import wait_until
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.server import RunningSandbox, running
from stripe_sandbox.testing import API_KEY
from stripe_sandbox.webhooks import sign
from typer.testing import CliRunner, Result

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = 86_400
HOUR = 3_600
GOOD = "4242424242424242"
DECLINING = "4000000000000341"
CHURN_WINDOW_DAYS = 30  # docs/metrics.md: churn looks back a rolling 30 days


@pytest.fixture
async def stripe_sandbox() -> AsyncIterator[RunningSandbox]:
    """A sandbox of the test's own: advancing its clock renews nobody else's tenants."""
    config = SandboxConfig(port=0, webhook_retry_schedule=(0.05, 0.1, 0.2, 0.4))
    async with running(config) as served:
        yield served


@pytest.fixture
async def product_database(postgres_server_url: str) -> AsyncIterator[str]:
    """A database of the test's own: the ledger holds its script and nothing else."""
    async with throwaway_database(postgres_server_url, prefix="billing_month") as url:
        await upgrade_async([spec.migrations for spec in SERVICES.values()], url)
        yield url


def operator() -> dict[str, str]:
    return Product.auth("ops", "member", user_id="ops-month", scopes=["billing:admin"])


@dataclass
class Ledger:
    """The script's revenue by hand: each tenant's MRR and plan, each movement, dated."""

    mrr: dict[str, int] = field(default_factory=dict)
    plan: dict[str, str] = field(default_factory=dict)
    moves: list[tuple[date, str, int, int]] = field(default_factory=list)
    """(day, kind, MRR delta, paying logos delta)."""

    def set(self, tenant: str, day: date, plan: str, mrr: int) -> None:
        before = self.mrr.get(tenant, 0)
        if before == 0 and mrr > 0:
            kind = "new"
        elif before > 0 and mrr == 0:
            kind = "churn"
        else:
            kind = "expansion" if mrr > before else "contraction"
        self.moves.append((day, kind, mrr - before, int(mrr > 0) - int(before > 0)))
        self.mrr[tenant], self.plan[tenant] = mrr, plan

    def total(self, kind: str) -> int:
        return abs(sum(delta for _, k, delta, _ in self.moves if k == kind))

    def mrr_before(self, day: date) -> int:
        return sum(delta for d, _, delta, _ in self.moves if d < day)

    def logos_before(self, day: date) -> int:
        return sum(logos for d, _, _, logos in self.moves if d < day)

    def between(self, kind: str, first: date, end: date) -> tuple[int, int]:
        """(|MRR|, |logos|) of ``kind`` on days in [first, end)."""
        found = [(m, n) for d, k, m, n in self.moves if k == kind and first <= d < end]
        return abs(sum(m for m, _ in found)), abs(sum(n for _, n in found))


async def sandbox_day(product: Product) -> date:
    clock = await product.stripe_get("/_sandbox/clock")
    return datetime.fromtimestamp(clock["now"], UTC).date()


async def prices(product: Product) -> dict[str, int]:
    found = await product.stripe_get(
        "/v1/prices", **{"lookup_keys[]": ["solo_monthly", "team_monthly", "enterprise_monthly"]}
    )
    return {p["lookup_key"].removesuffix("_monthly"): p["unit_amount"] for p in found["data"]}


async def set_card(product: Product, tenant: str, number: str) -> None:
    customer = await product.customer_of(tenant)
    response = await product.stripe.post(
        f"/_sandbox/customers/{customer}/card", data={"card": number}
    )
    assert response.status_code == 200, response.text


async def queue_ids(product: Product) -> dict[str, str]:
    response = await product.api.get(
        "/api/billing/admin/past-due", params={"limit": 200}, headers=operator()
    )
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return {row["tenant_id"]: row["status"] for row in response.json()["tenants"]}


async def metrics(product: Product, first: date, last: date) -> dict[str, Any]:
    params = {"from": first.isoformat(), "to": last.isoformat(), "interval": "month"}
    response = await product.api.get(
        "/api/billing/admin/metrics", params=params, headers=operator()
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_scripted_month_in_the_sandbox_gives_the_numbers_by_hand(
    product: Product,
) -> None:
    price = await prices(product)
    by_hand = Ledger()
    day0 = await sandbox_day(product)

    # Day 0: six subscriptions, two trials, one abandoned checkout.
    names = ["upgrader", "downgrader", "canceler", "recovers", "stays_failed", "steady"]
    plans = dict(zip(names, ["solo", "enterprise", "team", "solo", "team", "team"], strict=True))
    tenant = {name: product.new_tenant() for name in [*names, "trial_card", "trial_no_card"]}
    for name in names:
        await product.subscribe(tenant[name], plans[name])
        by_hand.set(name, await sandbox_day(product), plans[name], price[plans[name]])
    for name, card in (("trial_card", GOOD), ("trial_no_card", "")):
        session = await product.checkout(tenant[name], "team", trial=True)
        assert (await product.pay(session, card=card)).status_code == 303
        await product.wait_subscription(tenant[name], lambda s: s["status"] == "trialing")
    await product.checkout(product.new_tenant(), "team")  # opened, never paid
    checkouts_created, checkouts_completed = len(names) + 3, len(names) + 2

    # An hour later: an upgrade now, a downgrade and a cancellation at period end.
    await product.advance(HOUR)
    owner = product.auth(tenant["upgrader"])
    upgraded = await product.api.post(
        "/api/billing/subscription/plan", headers=owner, json={"plan": "team"}
    )
    assert upgraded.status_code == 200, upgraded.text
    assert upgraded.json()["effective"] == "now"
    await product.wait_subscription(tenant["upgrader"], lambda s: s["plan_type"] == "team")
    by_hand.set("upgrader", await sandbox_day(product), "team", price["team"])
    downgraded = await product.api.post(
        "/api/billing/subscription/plan",
        headers=product.auth(tenant["downgrader"]),
        json={"plan": "team"},
    )
    assert downgraded.status_code == 200, downgraded.text
    assert downgraded.json()["effective"] == "period_end"
    canceled = await product.api.delete(
        "/api/billing/subscription", headers=product.auth(tenant["canceler"])
    )
    assert canceled.status_code == 200, canceled.text
    await product.wait_subscription(tenant["canceler"], lambda s: s["cancel_at_period_end"])
    for name in ("recovers", "stays_failed"):
        await set_card(product, tenant[name], DECLINING)

    # The trials end (14 days, and the hour before charging): one converts, one pauses.
    await product.advance(14 * DAY + 2 * HOUR)
    await product.wait_subscription(tenant["trial_card"], lambda s: s["status"] == "active")
    await product.wait_subscription(tenant["trial_no_card"], lambda s: s["status"] == "paused")
    by_hand.set("trial_card", await sandbox_day(product), "team", price["team"])
    trials_started, trials_converted, trials_lost = 2, 1, 1

    # The renewals: a month after day 0 (read from Stripe), and the hour before charging.
    period_end = (await product.subscription(tenant["steady"]))["current_period_end"]
    now = (await product.stripe_get("/_sandbox/clock"))["now"]
    ends = datetime.fromisoformat(period_end).timestamp()
    await product.advance(int(ends - now) + 2 * HOUR)
    renewal_day = await sandbox_day(product)
    await product.wait_subscription(tenant["canceler"], lambda s: s["status"] == "canceled")
    by_hand.set("canceler", renewal_day, "team", 0)
    await product.wait_subscription(tenant["downgrader"], lambda s: s["plan_type"] == "team")
    by_hand.set("downgrader", renewal_day, "team", price["team"])
    for name in ("recovers", "stays_failed"):  # past due still counts in MRR
        await product.wait_subscription(
            tenant[name], lambda s: s["status"] == "past_due" and s["payment_failed"] is not None
        )
    failed_amounts = [price[plans["recovers"]], price[plans["stays_failed"]]]

    # The queue shows exactly the failing tenants (and the paused trial, which owes a card).
    failing = {tenant["recovers"]: "past_due", tenant["stays_failed"]: "past_due"}
    assert await queue_ids(product) == failing | {tenant["trial_no_card"]: "paused"}

    # A fixed card and the operator's retry: cleared through the webhook path.
    await set_card(product, tenant["recovers"], GOOD)
    retried = await product.api.post(
        f"/api/billing/admin/tenants/{tenant['recovers']}/retry-payment", headers=operator()
    )
    assert retried.status_code == 202, retried.text
    assert retried.json()["action"]["outcome"] == "stripe_paid"
    await product.wait_subscription(
        tenant["recovers"], lambda s: s["status"] == "active" and s["payment_failed"] is None
    )
    assert await queue_ids(product) == {
        tenant["stays_failed"]: "past_due",
        tenant["trial_no_card"]: "paused",
    }
    recovered_amounts = [price[plans["recovers"]]]
    last_day = await sandbox_day(product)

    # The numbers by hand, from the script above.
    first, last = day0, last_day + timedelta(days=2)
    end = last + timedelta(days=1)  # the report's buckets end before this day
    lookback = end - timedelta(days=CHURN_WINDOW_DAYS)
    mrr = sum(by_hand.mrr.values())
    churned_mrr, churned_logos = by_hand.between("churn", lookback, end)
    contraction_in_window, _ = by_hand.between("contraction", lookback, end)
    paying = dict.fromkeys(("solo", "team", "enterprise"), 0)
    for name, value in by_hand.mrr.items():
        paying[by_hand.plan[name]] += value > 0
    expected: dict[str, Any] = {
        "opening_mrr": 0,
        "mrr": mrr,
        "arr": 12 * mrr,
        "paying_subscriptions": sum(paying.values()),
        "active_subscriptions": paying,
        "new_mrr": by_hand.total("new"),
        "expansion_mrr": by_hand.total("expansion"),
        "contraction_mrr": by_hand.total("contraction"),
        "churned_mrr": by_hand.total("churn"),
        "reactivated_mrr": 0,
        "logo_churn_pct": round(100 * churned_logos / by_hand.logos_before(lookback), 2),
        "revenue_churn_pct": round(
            100 * (churned_mrr + contraction_in_window) / by_hand.mrr_before(lookback), 2
        ),
        "failed_payments": len(failed_amounts),
        "recovered_payments": len(recovered_amounts),
        "recovery_rate_pct": round(100 * len(recovered_amounts) / len(failed_amounts), 2),
        "failed_amount": sum(failed_amounts),
        "recovered_amount": sum(recovered_amounts),
        "recovery_amount_pct": round(100 * sum(recovered_amounts) / sum(failed_amounts), 2),
    }
    expected_activity: dict[str, Any] = {
        "trial_starts": trials_started,
        "trial_conversions": trials_converted,
        "trials_lost": trials_lost,
        "trial_conversion_pct": round(100 * trials_converted / (trials_converted + trials_lost), 2),
        "checkout_created": checkouts_created,
        "checkout_completed": checkouts_completed,
        "checkout_conversion_pct": round(100 * checkouts_completed / checkouts_created, 2),
        "cancellations_scheduled": 1,
    }

    def figures(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        usd = body["currencies"].get("usd", {"totals": {}, "series": [{}]})
        point = usd["totals"] | {
            k: usd["series"][-1].get(k) for k in ("mrr", "arr", "active_subscriptions")
        }
        activity = body["activity"]["totals"]
        return (
            {k: point.get(k) for k in expected},
            {k: activity.get(k) for k in expected_activity},
        )

    found: tuple[dict[str, Any], dict[str, Any]] = ({}, {})

    async def settled() -> bool:  # the last webhooks reach the ledger a moment later
        nonlocal found
        found = figures(await metrics(product, first, last))
        return found == (expected, expected_activity)

    assert await wait_until(settled, timeout=30), [
        (name, found[i].get(name), want[name])
        for i, want in enumerate((expected, expected_activity))
        for name in want
        if found[i].get(name) != want[name]
    ]
    body = await metrics(product, first, last)
    usd = body["currencies"]["usd"]
    assert list(body["currencies"]) == ["usd"]
    assert usd["totals"]["median_time_to_recover_seconds"] > 0
    moved = sum(by_hand.total(k) for k in ("new", "expansion"))
    assert mrr == moved - by_hand.total("contraction") - by_hand.total("churn")

    # Stripe delivers every event once more: no number changes.
    copies = 0
    async for event in stripe_events(product):
        payload = json.dumps(event)
        signature = sign(payload, product.webhook_secrets[0])
        delivered = await product.api.post(
            "/api/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
        assert delivered.status_code == 200, delivered.text
        assert delivered.json()["duplicate"] is True
        copies += 1
    assert copies > len(tenant)
    assert figures(await metrics(product, first, last)) == (expected, expected_activity)


async def stripe_events(product: Product) -> AsyncIterator[dict[str, Any]]:
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = await product.stripe_get("/v1/events", **params)
        for event in page["data"]:
            yield event
        if not page["has_more"]:
            return
        params["starting_after"] = page["data"][-1]["id"]


async def catch_up(database: str, sandbox: str) -> Result:
    """``billing webhooks catch-up --since 72h --undelivered`` against the test's world."""
    env = {
        "DATABASE_URL": database,
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": sandbox,
        "LOG_LEVEL": "WARNING",
    }
    args = ["webhooks", "catch-up", "--since", "72h", "--undelivered"]
    return await asyncio.to_thread(lambda: CliRunner().invoke(cli, args, env=env))


async def failures_by_day(product: Product, first: date, days: int) -> list[int]:
    params = {
        "from": first.isoformat(),
        "to": (first + timedelta(days=days - 1)).isoformat(),
        "interval": "day",
    }
    response = await product.api.get(
        "/api/billing/admin/metrics", params=params, headers=operator()
    )
    assert response.status_code == 200, response.text
    usd = response.json()["currencies"].get("usd")
    return [0] * days if usd is None else [p["failed_payments"] for p in usd["series"]]


async def test_a_renewal_failure_that_arrives_days_late_lands_on_its_own_day(
    product: Product, product_database: str
) -> None:
    tenant = product.new_tenant()
    await product.subscribe(tenant, "team")
    await set_card(product, tenant, DECLINING)
    period_end = (await product.subscription(tenant))["current_period_end"]
    now = (await product.stripe_get("/_sandbox/clock"))["now"]
    off = await product.stripe.post("/_sandbox/webhooks/deliveries", json={"enabled": False})
    assert off.status_code == 200, off.text
    try:  # the renewal fails while nothing reaches us; two more days pass
        await product.advance(int(datetime.fromisoformat(period_end).timestamp() - now) + 2 * HOUR)
        failed_day = await sandbox_day(product)
        await product.advance(2 * DAY)
    finally:
        on = await product.stripe.post("/_sandbox/webhooks/deliveries", json={"enabled": True})
        assert on.status_code == 200, on.text
    invoices = await product.stripe_get(
        "/v1/invoices", customer=await product.customer_of(tenant), status="open"
    )
    (failed,) = invoices["data"]
    assert datetime.fromtimestamp(failed["created"], UTC).date() <= failed_day
    assert await failures_by_day(product, failed_day, 3) == [0, 0, 0]  # nothing arrived
    assert (await product.subscription(tenant))["status"] == "active"

    caught = await catch_up(product_database, product.sandbox)
    assert caught.exit_code == 0, caught.output
    await product.wait_subscription(tenant, lambda s: s["status"] == "past_due", timeout=30)
    expected = [1, 0, 0]  # on the renewal's day, not the day it arrived
    found: list[int] = []

    async def landed() -> bool:
        nonlocal found
        found = await failures_by_day(product, failed_day, 3)
        return found == expected

    assert await wait_until(landed, timeout=30), (found, expected)
