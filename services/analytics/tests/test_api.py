"""GET /api/billing/admin/metrics on real Postgres: hostile callers and input, and the
ledger read back through the consumer's handler (real messages, real SQL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from analytics.adapters.postgres import REBUILD_DAYS
from analytics.consumer import billing_event_handler
from analytics.context import AnalyticsContext
from analytics.testing import invoice_paid, payment_failed, subscription_updated
from billing_domain.envelope import IntegrationEvent
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.message import IncomingMessage
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

pytestmark = pytest.mark.integration

METRICS = "/api/billing/admin/metrics"
Headers = Callable[..., dict[str, str]]


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    if code is not None:
        assert error["code"] == code


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(METRICS), 401)


async def test_a_bad_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(METRICS, headers={"Authorization": "Bearer not.a.token"})
    assert_error(response, 401)


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
async def test_a_tenant_token_without_the_scope_is_403(
    client: httpx.AsyncClient, auth: Headers, role: str
) -> None:
    assert_error(await client.get(METRICS, headers=auth("tenant_x", role)), 403, "missing_scope")


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"from": "yesterday"},
        {"to": "2026-02-30"},
        {"from": "2026-11-01T00:00:00"},
        {"from": "1700000000"},
        {"to": "2026-11-01\x00"},
        {"interval": "year"},
        {"interval": ""},
        {"from": "2026-11-02", "to": "2026-11-01"},
        {"from": "2025-01-01", "to": "2026-11-01", "interval": "day"},
        {"from": "2010-01-01", "to": "2026-11-01", "interval": "week"},
        {"from": "0001-01-01", "to": "9999-12-31", "interval": "month"},
    ],
)
async def test_bad_dates_and_ranges_are_422(
    client: httpx.AsyncClient, operator: dict[str, str], query: dict[str, str]
) -> None:
    assert_error(await client.get(METRICS, params=query, headers=operator), 422)


async def test_an_empty_ledger_answers_zeroes(
    client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    response = await client.get(
        METRICS,
        params={"from": "1990-01-01", "to": "1990-01-31", "interval": "week"},
        headers=operator,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["interval"] == "week"
    assert len(body["activity"]["series"]) == 5
    assert body["activity"]["totals"]["trial_starts"] == 0


async def deliver(app: FastAPI, *events: IntegrationEvent, message_id: str | None = None) -> None:
    context: AnalyticsContext = app.state.context
    handler = billing_event_handler(context.uow_factory)
    for event in events:
        await handler(
            IncomingMessage(
                message_id=message_id or str(event.id),
                routing_key=event.routing_key,
                body=json.dumps(event.to_envelope()).encode(),
            )
        )


async def rebuild_days(url: str | None) -> None:
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            for statement in REBUILD_DAYS:
                await connection.execute(statement)
    finally:
        await connection.close()


async def test_the_ledger_on_postgres_answers_the_metrics(
    app: FastAPI, client: httpx.AsyncClient, operator: dict[str, str], settings: BillingSettings
) -> None:
    # a currency of its own: the database is shared by the whole run
    cur = "x" + uuid.uuid4().hex[:2]
    day = datetime(2031, 3, 1, 10, tzinfo=UTC)
    a, b = f"a_{uuid.uuid4().hex[:8]}", f"b_{uuid.uuid4().hex[:8]}"
    events: list[IntegrationEvent] = [
        subscription_updated(a, at=day, amount=1000, currency=cur),
        subscription_updated(b, at=day, amount=12000, currency=cur, plan=PlanType.TEAM),
        subscription_updated(
            a, at=day + timedelta(days=1), amount=3000, currency=cur, plan=PlanType.TEAM
        ),
        subscription_updated(
            b,
            at=day + timedelta(days=2),
            amount=12000,
            currency=cur,
            plan=PlanType.TEAM,
            status=SubscriptionStatus.CANCELED,
        ),
    ]
    # three renewals fail on the 2nd; two are paid, 1.5 s and 2 days 0.25 s later (the
    # median time to recover is their mean)
    waits = [timedelta(seconds=1.5), timedelta(days=2, seconds=0.25)]
    failed_at = day + timedelta(days=1, microseconds=7)
    for n, amount in enumerate((1000, 3000, 500)):
        events.append(
            payment_failed(
                a, at=failed_at, invoice_id=f"in_{a}_{n}", amount_due=amount, currency=cur
            )
        )
    for n, wait in enumerate(waits):
        events.append(
            invoice_paid(
                a, at=failed_at + wait, invoice_id=f"in_{a}_{n}", amount_paid=700, currency=cur
            )
        )
    await deliver(app, *events)
    await deliver(app, *events)  # redelivered: nothing changes
    response = await client.get(
        METRICS, params={"from": "2031-03-01", "to": "2031-03-03"}, headers=operator
    )
    assert response.status_code == 200, response.text
    usd = response.json()["currencies"][cur]
    assert [p["mrr"] for p in usd["series"]] == [13000, 15000, 3000]
    assert usd["totals"]["new_mrr"] == 13000
    assert usd["totals"]["expansion_mrr"] == 2000
    assert usd["totals"]["churned_mrr"] == 12000
    assert usd["series"][-1]["active_subscriptions"] == {"solo": 0, "team": 1, "enterprise": 0}
    # nobody paid 30 days before: a churn rate has no base
    assert usd["series"][-1]["logo_churn_pct"] is None
    failures = usd["totals"]
    assert (failures["failed_payments"], failures["failed_amount"]) == (3, 4500)
    assert (failures["recovered_payments"], failures["recovered_amount"]) == (2, 1400)
    assert failures["median_time_to_recover_seconds"] == sum(
        w.total_seconds() for w in waits
    ) / len(waits)
    assert [p["failed_payments"] for p in usd["series"]] == [0, 3, 0]
    context: AnalyticsContext = app.state.context
    kpis = await context.reader.kpis(day + timedelta(days=3))
    # the daily sums kept on insert equal the ones rebuilt from the ledger, twice over
    first = response.json()
    for _ in range(2):
        await rebuild_days(settings.database_url)
        again = await client.get(
            METRICS, params={"from": "2031-03-01", "to": "2031-03-03"}, headers=operator
        )
        assert again.json()["currencies"][cur] == first["currencies"][cur]
    assert kpis.mrr[cur] == 3000
    assert kpis.paying[cur] == 1
