"""``billing analytics backfill`` on real Postgres: opening balances from the
subscriptions listing (a fake of its port) priced from the catalogue (a fake of its
port), equal to the MRR computed by hand; a second run changes no number; a tenant
the ledger knows is not doubled; the metrics route shows the opening MRR."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from analytics.backfill import backfill_openings
from analytics.consumer import billing_event_handler
from analytics.context import AnalyticsContext
from analytics.ports import CataloguePrice
from analytics.testing import (
    FakePriceBook,
    FakeSubscriptionDirectory,
    listed,
    subscription_updated,
)
from billing_domain.envelope import IntegrationEvent
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.message import IncomingMessage
from fastapi import FastAPI

pytestmark = pytest.mark.integration

METRICS = "/api/billing/admin/metrics"
AS_OF = datetime(2032, 1, 10, 6, tzinfo=UTC)
DAY = {"from": "2032-01-10", "to": "2032-01-10"}


async def deliver(app: FastAPI, *events: IntegrationEvent) -> None:
    context: AnalyticsContext = app.state.context
    handler = billing_event_handler(context.uow_factory)
    for event in events:
        await handler(
            IncomingMessage(
                message_id=str(event.id),
                routing_key=event.routing_key,
                body=json.dumps(event.to_envelope()).encode(),
            )
        )


async def metrics_of(client: httpx.AsyncClient, operator: dict[str, str]) -> dict[str, object]:
    response = await client.get(METRICS, params=DAY, headers=operator)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_backfill_opens_true_balances_once(
    app: FastAPI, client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    cur = "y" + uuid.uuid4().hex[:2]  # the database is shared by the whole run
    n = uuid.uuid4().hex[:8]
    before = AS_OF - timedelta(days=1)
    prices = FakePriceBook(
        {
            (PlanType.SOLO, "month"): CataloguePrice(amount=900, currency=cur, interval="month"),
            (PlanType.TEAM, "month"): CataloguePrice(amount=2900, currency=cur, interval="month"),
            (PlanType.TEAM, "year"): CataloguePrice(amount=29000, currency=cur, interval="year"),
            (PlanType.ENTERPRISE, "month"): CataloguePrice(
                amount=9900, currency=cur, interval="month"
            ),
        }
    )
    known = f"g_{n}"
    rows = [
        listed(f"a_{n}", plan=PlanType.SOLO, updated_at=before),
        listed(f"b_{n}", plan=PlanType.TEAM, interval="year", updated_at=before),
        listed(
            f"c_{n}",
            plan=PlanType.ENTERPRISE,
            status=SubscriptionStatus.PAST_DUE,
            updated_at=before,
        ),
        listed(f"d_{n}", plan=PlanType.TEAM, status=SubscriptionStatus.TRIALING, updated_at=before),
        listed(f"e_{n}", plan=PlanType.FREE, subscription=False, updated_at=before),
        listed(f"f_{n}", plan=PlanType.SOLO, status=SubscriptionStatus.CANCELED, updated_at=before),
        listed(f"h_{n}", plan=PlanType.SOLO, status=SubscriptionStatus.UNPAID, updated_at=before),
        listed(known, plan=PlanType.TEAM, updated_at=before),
    ]
    # the ledger already knows g from its event (2,900 a month since 5 January)
    await deliver(
        app,
        subscription_updated(
            known, at=AS_OF - timedelta(days=5), plan=PlanType.TEAM, amount=2900, currency=cur
        ),
    )
    context: AnalyticsContext = app.state.context
    directory = FakeSubscriptionDirectory(rows, page_size=3)

    report = await backfill_openings(directory, prices, context.uow_factory, as_of=AS_OF)

    # by hand: solo 900 + team yearly 29,000 / 12 = 2,416.67 -> 2,417 + enterprise 9,900
    opening = 900 + 2417 + 9900
    assert report.opening_mrr == {cur: opening}
    assert (report.listed, report.opened, report.known) == (8, 3, 1)
    assert (report.not_paying, report.without_subscription, report.unpriced) == (3, 1, [])
    assert directory.pages == 3
    body = await metrics_of(client, operator)
    point = body["currencies"][cur]["series"][0]  # type: ignore[index]
    assert point["mrr"] == opening + 2900
    assert point["arr"] == 12 * (opening + 2900)
    assert point["paying_subscriptions"] == 4
    assert point["active_subscriptions"] == {"solo": 1, "team": 2, "enterprise": 1}
    # an opening balance is not a movement: nothing new, nothing expanded
    for name in ("new_mrr", "expansion_mrr", "reactivated_mrr", "churned_mrr"):
        assert point[name] == 0, name
    assert body["currencies"][cur]["totals"]["opening_mrr"] == 2900  # type: ignore[index]
    kpis = await context.reader.kpis(AS_OF + timedelta(hours=1))
    assert kpis.mrr[cur] == opening + 2900

    # a second run adds nothing and changes no number
    again = await backfill_openings(
        FakeSubscriptionDirectory(rows),
        prices,
        context.uow_factory,
        as_of=AS_OF + timedelta(days=1),
    )
    assert (again.opened, again.known, again.opening_mrr) == (0, 7, {})
    assert await metrics_of(client, operator) == body


async def test_events_after_the_backfill_fold_from_the_opened_state(
    app: FastAPI, client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    cur = "z" + uuid.uuid4().hex[:2]
    n = uuid.uuid4().hex[:8]
    before = AS_OF - timedelta(days=1)
    prices = FakePriceBook(
        {(PlanType.TEAM, "month"): CataloguePrice(amount=2900, currency=cur, interval="month")}
    )
    paying, trialing = f"p_{n}", f"t_{n}"
    rows = [
        listed(paying, plan=PlanType.TEAM, updated_at=before),
        listed(trialing, plan=PlanType.TEAM, status=SubscriptionStatus.TRIALING, updated_at=before),
    ]
    context: AnalyticsContext = app.state.context
    await backfill_openings(
        FakeSubscriptionDirectory(rows), prices, context.uow_factory, as_of=AS_OF
    )
    later = AS_OF + timedelta(hours=2)
    await deliver(
        app,
        # a copy of what the projection already held: no movement
        subscription_updated(paying, at=later, plan=PlanType.TEAM, amount=2900, currency=cur),
        # the trial converts: new MRR and a conversion
        subscription_updated(trialing, at=later, plan=PlanType.TEAM, amount=2900, currency=cur),
    )
    body = await metrics_of(client, operator)
    point = body["currencies"][cur]["series"][0]  # type: ignore[index]
    assert point["mrr"] == 5800
    assert (point["new_mrr"], point["expansion_mrr"]) == (2900, 0)
    activity = body["activity"]["series"][0]  # type: ignore[index]
    assert activity["trial_conversions"] >= 1
