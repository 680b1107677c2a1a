"""A scripted month through the consumer's handler on real Postgres and the HTTP route:
the metrics equal the numbers computed by hand from the script below; every message
delivered twice, or republished under new message ids, changes nothing; a late payment
failure lands in its own day.

The month (usd, monthly prices: solo 900, team 2900, enterprise 9900), November 2031:

- opening (October): A solo, B team, C team, D enterprise pay: MRR 16,600, 4 paying;
- three trials start on the 2nd (T1, T2, T3); T1 and T2 convert to team on the 16th
  (new 2 x 2,900), T3 is canceled (lost);
- A upgrades solo -> team on the 10th (expansion 2,000); D downgrades enterprise ->
  team on the 12th (contraction 7,000);
- C schedules its cancellation on the 14th and ends on the 30th (churn 2,900);
- two renewals fail: B's on the 20th (2,900), paid on the 23rd (3 days); A's on the
  21st (2,900) never is: A goes unpaid on the 28th (churn 2,900);
- four checkout sessions are opened on the 5th, three completed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from analytics.consumer import billing_event_handler
from analytics.context import AnalyticsContext
from analytics.schema import MIGRATIONS
from analytics.testing import (
    checkout_completed,
    checkout_created,
    invoice_paid,
    payment_failed,
    subscription_updated,
)
from billing_domain.envelope import IntegrationEvent
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus as S
from billing_platform.messaging.message import IncomingMessage
from billing_platform.migrations import upgrade_async
from billing_platform.testing.plugin import throwaway_database
from fastapi import FastAPI

pytestmark = pytest.mark.integration

SOLO, TEAM, ENTERPRISE = 900, 2900, 9900
P = PlanType


def day(n: int, month: int = 11) -> datetime:
    return datetime(2031, month, n, 12, tzinfo=UTC)


def script(run: str) -> tuple[list[IntegrationEvent], IntegrationEvent]:
    """The month's events in order, and A's failure (delivered late, after the rest)."""

    def sub(name: str, at: datetime, plan: PlanType, amount: int, **kw: object) -> IntegrationEvent:
        return subscription_updated(
            f"{run}_{name}",
            at=at,
            plan=plan,
            amount=amount,
            currency="usd",
            **kw,  # type: ignore[arg-type]
        )

    a, b = f"{run}_a", f"{run}_b"
    events: list[IntegrationEvent] = [
        sub("a", day(1, 10), P.SOLO, SOLO),
        sub("b", day(1, 10), P.TEAM, TEAM),
        sub("c", day(1, 10), P.TEAM, TEAM),
        sub("d", day(1, 10), P.ENTERPRISE, ENTERPRISE),
        *(sub(t, day(2), P.TEAM, TEAM, status=S.TRIALING) for t in ("t1", "t2", "t3")),
        *(checkout_created(f"{run}_x{n}", at=day(5), session_id=f"cs_{run}_{n}") for n in range(4)),
        *(
            checkout_completed(f"{run}_x{n}", at=day(5), session_id=f"cs_{run}_{n}")
            for n in range(3)
        ),
        sub("a", day(10), P.TEAM, TEAM),
        sub("d", day(12), P.TEAM, TEAM),
        sub("c", day(14), P.TEAM, TEAM, cancel_at_period_end=True),
        sub("t1", day(16), P.TEAM, TEAM),
        sub("t2", day(16), P.TEAM, TEAM),
        sub("t3", day(16), P.TEAM, TEAM, status=S.CANCELED),
        payment_failed(b, at=day(20), invoice_id=f"in_{run}_b", amount_due=TEAM),
        sub("b", day(20) + timedelta(minutes=1), P.TEAM, TEAM, status=S.PAST_DUE),
        sub("a", day(21) + timedelta(minutes=1), P.TEAM, TEAM, status=S.PAST_DUE),
        invoice_paid(b, at=day(23), invoice_id=f"in_{run}_b", amount_paid=TEAM),
        sub("b", day(23) + timedelta(minutes=1), P.TEAM, TEAM),
        sub("a", day(28), P.TEAM, TEAM, status=S.UNPAID),
        sub("c", day(30), P.TEAM, TEAM, status=S.CANCELED, cancel_at_period_end=True),
    ]
    late = payment_failed(a, at=day(21), invoice_id=f"in_{run}_a", amount_due=TEAM)
    return events, late


async def deliver(app: FastAPI, events: list[IntegrationEvent], *, copy: str = "") -> None:
    """Each event as a message; ``copy`` names a republication (new message ids)."""
    context: AnalyticsContext = app.state.context
    handler = billing_event_handler(context.uow_factory)
    for event in events:
        await handler(
            IncomingMessage(
                message_id=f"{copy}{event.id}",
                routing_key=event.routing_key,
                body=json.dumps(event.to_envelope()).encode(),
            )
        )


@pytest.fixture
async def migrated_url(postgres_server_url: str) -> AsyncIterator[str]:
    """A database of its own: the opening MRR counts every subscription in the ledger,
    and other tests' subscriptions were still active in this month (28,200, not 16,600,
    in a run whose files came in another order)."""
    async with throwaway_database(postgres_server_url, "analytics_month") as url:
        await upgrade_async([MIGRATIONS], url)
        yield url


async def test_a_scripted_month_equals_the_numbers_by_hand(
    app: FastAPI, client: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    events, late = script("m")
    await deliver(app, events)
    await deliver(app, events)  # every message redelivered: nothing changes
    await deliver(app, events, copy="republished-")  # new message ids, same Stripe events
    await deliver(app, [late])  # A's failure of the 21st arrives after everything else
    await deliver(app, [late])

    month = {"from": "2031-11-01", "to": "2031-11-30", "interval": "month"}
    body = (await client.get("/api/billing/admin/metrics", params=month, headers=operator)).json()
    usd = body["currencies"]["usd"]
    totals, end = usd["totals"], usd["series"][-1]
    opening = SOLO + TEAM + TEAM + ENTERPRISE  # 16,600
    new = 2 * TEAM
    expansion = TEAM - SOLO
    contraction = ENTERPRISE - TEAM
    churn = TEAM + TEAM  # C canceled, A unpaid
    assert totals["opening_mrr"] == opening
    assert (totals["new_mrr"], totals["expansion_mrr"]) == (new, expansion)
    assert (totals["contraction_mrr"], totals["churned_mrr"]) == (contraction, churn)
    assert totals["reactivated_mrr"] == 0
    assert end["mrr"] == opening + new + expansion - contraction - churn == 4 * TEAM
    assert end["arr"] == 12 * 4 * TEAM
    assert end["active_subscriptions"] == {"solo": 0, "team": 4, "enterprise": 0}
    assert end["logo_churn_pct"] == round(100 * 2 / 4, 2)
    assert end["revenue_churn_pct"] == round(100 * (churn + contraction) / opening, 2)
    assert (totals["failed_payments"], totals["recovered_payments"]) == (2, 1)
    assert totals["recovery_rate_pct"] == 50.0
    assert (totals["failed_amount"], totals["recovered_amount"]) == (2 * TEAM, TEAM)
    assert totals["median_time_to_recover_seconds"] == timedelta(days=3).total_seconds()
    activity = body["activity"]["totals"]
    assert (activity["trial_starts"], activity["trial_conversions"]) == (3, 2)
    assert activity["trial_conversion_pct"] == round(100 * 2 / 3, 2)
    assert (activity["checkout_created"], activity["checkout_completed"]) == (4, 3)
    assert activity["checkout_conversion_pct"] == 75.0
    assert activity["cancellations_scheduled"] == 1

    days = {"from": "2031-11-20", "to": "2031-11-22", "interval": "day"}
    by_day = (await client.get("/api/billing/admin/metrics", params=days, headers=operator)).json()
    failures = [p["failed_payments"] for p in by_day["currencies"]["usd"]["series"]]
    assert failures == [1, 1, 0]  # the late one on the 21st, its own day
