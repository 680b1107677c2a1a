"""The failed-payment queue on Postgres with a fake Stripe: the listing, retry-payment,
remind, the audit, and hostile callers (tenant tokens, no token, bad ids and bodies)."""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from billing_domain.envelope import new_event
from billing_domain.errors import GatewayUnavailable
from billing_domain.money import Money
from billing_domain.notification_events import NotificationSent
from billing_domain.payment_failure import PaymentFailure
from billing_domain.payment_recovery import PaymentAttempt
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.messaging.message import OutgoingMessage
from billing_platform.testing.clock import FakeClock
from billing_platform.testing.waiting import wait_until
from prometheus_client import REGISTRY
from subscriptions.adapters.postgres import PgSubscriptionsUnitOfWork
from subscriptions.schema import SCHEMA
from subscriptions.testing import T0, AppClient, Builders, World

pytestmark = pytest.mark.integration

QUEUE = "/api/billing/admin/past-due"
ROW_KEYS = {
    "tenant_id",
    "plan",
    "status",
    "status_label",
    "amount_due",
    "currency",
    "attempts",
    "next_payment_attempt",
    "stripe_gave_up",
    "past_due_since",
    "days_past_due",
    "hosted_invoice_url",
    "stripe_invoice_id",
    "last_email",
    "last_action",
}


def currency() -> str:
    """A currency code of this test's own, so the shared database's other tenants stay out."""
    return "".join(random.choices(string.ascii_lowercase, k=3))


def failing(
    build: type[Builders],
    tenant: str,
    *,
    amount: int,
    cur: str,
    status: SubscriptionStatus = SubscriptionStatus.PAST_DUE,
    next_attempt: bool = True,
    attempts: int = 2,
) -> BillingAccount:
    account = build.paid_account(tenant, status=status)
    account.payment_failure = PaymentFailure(
        amount_due=Money(amount=amount, currency=cur),
        hosted_invoice_url=f"https://invoice.stripe.com/i/in_{tenant}",
        next_payment_attempt=T0 + timedelta(days=3) if next_attempt else None,
        invoice_id=f"in_{tenant}",
        since=T0 - timedelta(days=4, hours=1),
        attempt_count=attempts,
    )
    return account


async def seed(pool: asyncpg.Pool, world: World, *accounts: BillingAccount) -> None:
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        for account in accounts:
            await uow.accounts.save(account)
        await uow.commit()
    for account in accounts:
        snapshot = account.snapshot()
        if snapshot is not None:
            world.gateway.put(snapshot)


@pytest.fixture
def operator(token: Callable[..., str]) -> dict[str, str]:
    minted = token("ops", "member", scopes=["billing:admin"], user_id="op-7")
    return {"Authorization": f"Bearer {minted}"}


async def test_the_queue_lists_exactly_the_failing_tenants_by_amount_at_risk(
    app_client: AppClient,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    operator: dict[str, str],
) -> None:
    cur = currency()
    small, big, gave_up, unpaid = (build.tenant() for _ in range(4))
    healthy = build.paid_account(build.tenant())
    await seed(
        pool,
        world,
        failing(build, small, amount=900, cur=cur),
        failing(build, big, amount=9900, cur=cur, attempts=3),
        failing(build, gave_up, amount=2900, cur=cur, next_attempt=False, attempts=4),
        failing(build, unpaid, amount=2900, cur=cur, status=SubscriptionStatus.UNPAID),
        healthy,
    )
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        listed = await client.get(QUEUE, params={"currency": cur.upper()}, headers=operator)
        assert listed.status_code == 200, listed.text
        rows = listed.json()["tenants"]
        assert [r["tenant_id"] for r in rows] == [big, *sorted([gave_up, unpaid]), small]
        assert all(set(r) == ROW_KEYS for r in rows)
        first = rows[0]
        assert (first["amount_due"], first["currency"], first["attempts"]) == (9900, cur, 3)
        assert (first["plan"], first["status"]) == ("team", "past_due")
        assert (first["days_past_due"], first["stripe_gave_up"]) == (4, False)
        assert first["next_payment_attempt"] == "2026-12-04T12:00:00Z"
        assert first["hosted_invoice_url"] == f"https://invoice.stripe.com/i/in_{big}"
        assert (first["last_email"], first["last_action"]) == (None, None)
        by_tenant = {r["tenant_id"]: r for r in rows}
        assert by_tenant[gave_up]["next_payment_attempt"] is None
        assert by_tenant[gave_up]["stripe_gave_up"] is True

        one = await client.get(QUEUE, params={"tenant_id": small}, headers=operator)
        assert [r["tenant_id"] for r in one.json()["tenants"]] == [small]
        healthy_row = await client.get(
            QUEUE, params={"tenant_id": healthy.tenant_id}, headers=operator
        )
        assert healthy_row.json()["tenants"] == []

        only_unpaid = await client.get(
            QUEUE, params={"currency": cur, "status": "unpaid"}, headers=operator
        )
        assert [r["tenant_id"] for r in only_unpaid.json()["tenants"]] == [unpaid]

        seen: list[str] = []
        params: dict[str, Any] = {"currency": cur, "limit": 1}
        while True:
            page = await client.get(QUEUE, params=params, headers=operator)
            assert page.status_code == 200, page.text
            seen.extend(r["tenant_id"] for r in page.json()["tenants"])
            if page.json()["next_cursor"] is None:
                break
            params["cursor"] = page.json()["next_cursor"]
        assert seen == [r["tenant_id"] for r in rows]
        assert world.gateway.calls == []  # the read never calls Stripe


async def test_retry_payment_asks_stripe_once_and_is_audited(
    app_client: AppClient,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    operator: dict[str, str],
) -> None:
    cur = currency()
    tenant = build.tenant()
    await seed(pool, world, failing(build, tenant, amount=2900, cur=cur))
    world.gateway.invoice_answers[f"in_{tenant}"] = PaymentAttempt.DECLINED
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        url = f"/api/billing/admin/tenants/{tenant}/retry-payment"
        answer = await client.post(
            url, headers={**operator, "Idempotency-Key": "k1"}, json={"reason": "called them"}
        )
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["status"] == "requested"
        assert body["action"]["outcome"] == "stripe_declined"
        assert body["action"]["operator"] == "op-7"
        assert body["action"]["reason"] == "called them"
        assert world.gateway.calls == ["pay_invoice"]
        declined = REGISTRY.get_sample_value(
            "billing_operator_actions_total",
            {"action": "retry_payment", "outcome": "stripe_declined"},
        )
        assert declined is not None
        assert declined >= 1
        assert world.gateway.keys == [f"subscriptions.retry_payment.in_{tenant}.k1"]

        # The row is unchanged until the webhook comes; the audit is in it.
        listed = await client.get(QUEUE, params={"currency": cur}, headers=operator)
        (row,) = listed.json()["tenants"]
        assert row["amount_due"] == 2900
        assert row["last_action"]["action"] == "retry_payment"
        assert row["last_action"]["outcome"] == "stripe_declined"

        world.gateway.invoice_answers[f"in_{tenant}"] = GatewayUnavailable("down")
        down = await client.post(url, headers=operator)
        assert down.status_code == 503
        history = await client.get(f"/api/billing/admin/tenants/{tenant}/actions", headers=operator)
        assert history.status_code == 200
        outcomes = [(a["action"], a["outcome"]) for a in history.json()["actions"]]
        assert outcomes == [
            ("retry_payment", "stripe_unavailable"),
            ("retry_payment", "stripe_declined"),
        ]


async def test_remind_publishes_the_reminder_through_the_outbox(
    app_client: AppClient,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    operator: dict[str, str],
) -> None:
    cur = currency()
    tenant = build.tenant()
    await seed(pool, world, failing(build, tenant, amount=2900, cur=cur))
    bus = InMemoryBus()
    key = "billing.payment.reminder_requested"

    def reminders() -> list[dict[str, Any]]:
        return [json.loads(m.body) for m in bus.published if m.routing_key == key]

    async with bus, app_client(gateway=world.gateway, clock=FakeClock(T0), bus=bus) as (client, _):
        answer = await client.post(f"/api/billing/admin/tenants/{tenant}/remind", headers=operator)
        assert answer.status_code == 202, answer.text
        assert answer.json()["action"]["outcome"] == "requested"
        assert await wait_until(lambda: bool(reminders()), timeout=10)
    (event,) = reminders()
    assert event["type"] == "payment.reminder_requested"
    assert event["source"] == "subscriptions"
    assert event["tenant_id"] == tenant
    assert event["data"] == {"stripe_invoice_id": f"in_{tenant}", "requested_by": "op-7"}
    assert world.gateway.calls == []


async def test_nothing_due_is_409_and_audited_unknown_tenant_404_and_unchanged(
    app_client: AppClient,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    operator: dict[str, str],
) -> None:
    healthy = build.paid_account(build.tenant(), plan=PlanType.SOLO)
    paused = build.paid_account(build.tenant(), status=SubscriptionStatus.PAUSED)
    await seed(pool, world, healthy, paused)
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        base = "/api/billing/admin/tenants"
        for action in ("retry-payment", "remind"):
            refused = await client.post(f"{base}/{healthy.tenant_id}/{action}", headers=operator)
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "nothing_due"
            unknown = await client.post(
                f"{base}/nobody-{build.tenant()}/{action}", headers=operator
            )
            assert unknown.status_code == 404
            assert unknown.json()["error"]["code"] == "unknown_tenant"
        # paused without a failed invoice: in the queue, a reminder may go, nothing to charge
        assert (
            await client.post(f"{base}/{paused.tenant_id}/retry-payment", headers=operator)
        ).status_code == 409
        assert (
            await client.post(f"{base}/{paused.tenant_id}/remind", headers=operator)
        ).status_code == 202
        history = await client.get(f"{base}/{healthy.tenant_id}/actions", headers=operator)
        assert [a["outcome"] for a in history.json()["actions"]] == ["nothing_due", "nothing_due"]
        assert (await client.get(f"{base}/nobody/actions", headers=operator)).status_code == 404
    assert world.gateway.calls == []
    assert await _reminders(pool, paused.tenant_id) == 1
    assert await _reminders(pool, healthy.tenant_id) == 0


async def _reminders(pool: asyncpg.Pool, tenant: str) -> int:
    found = await pool.fetchval(
        f"SELECT count(*) FROM {SCHEMA}.outbox WHERE routing_key = $1 AND tenant_id = $2",
        "billing.payment.reminder_requested",
        tenant,
    )
    return int(found)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", QUEUE),
        ("GET", "/api/billing/admin/tenants/{tenant}/actions"),
        ("POST", "/api/billing/admin/tenants/{tenant}/retry-payment"),
        ("POST", "/api/billing/admin/tenants/{tenant}/remind"),
    ],
)
async def test_tenants_and_strangers_are_refused_and_nothing_changes(
    app_client: AppClient,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    token: Callable[..., str],
    method: str,
    path: str,
) -> None:
    tenant = build.tenant()
    await seed(pool, world, failing(build, tenant, amount=2900, cur="usd"))
    url = path.format(tenant=tenant)
    callers = {
        "no token": ({}, 401),
        "garbage": ({"Authorization": "Bearer nope"}, 401),
        "the tenant's own owner": ({"Authorization": f"Bearer {token(tenant)}"}, 403),
        "another scope": (
            {"Authorization": f"Bearer {token(tenant, 'owner', scopes=['billing:read'])}"},
            403,
        ),
        "expired operator": (
            {"Authorization": f"Bearer {token('ops', scopes=['billing:admin'], ttl_seconds=-120)}"},
            401,
        ),
    }
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        for name, (headers, status) in callers.items():
            answer = await client.request(method, url, headers=headers, json={"reason": "x"})
            assert answer.status_code == status, (name, answer.text)
    assert world.gateway.calls == []
    actions = await pool.fetchval(
        f"SELECT count(*) FROM {SCHEMA}.operator_actions WHERE tenant_id = $1",
        tenant,
    )
    assert actions == 0


async def test_bad_filters_cursors_ids_and_bodies_are_422(
    app_client: AppClient,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    operator: dict[str, str],
) -> None:
    tenant = build.tenant()
    await seed(pool, world, failing(build, tenant, amount=2900, cur="usd"))
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        for params in (
            {"status": "active"},
            {"status": "canceled"},
            {"status": "PAST DUE"},
            {"currency": "dollars"},
            {"currency": "u$d"},
            {"currency": "us\x00"},
            {"limit": "0"},
            {"limit": "201"},
            {"cursor": "!!!"},
            {"cursor": "bm90LWEtY3Vyc29y"},
            {"tenant_id": "x" * 201},
            {"tenant_id": "a\x00b"},
        ):
            answer = await client.get(QUEUE, params=params, headers=operator)
            assert answer.status_code == 422, (params, answer.text)
        url = f"/api/billing/admin/tenants/{tenant}/retry-payment"
        for body in (
            {"reason": ""},
            {"reason": "x" * 501},
            {"other": 1},
            [1],
            "text",
            {"reason": 5},
        ):
            answer = await client.post(url, headers=operator, json=body)
            assert answer.status_code == 422, (body, answer.text)
        raw = await client.post(
            url, headers={**operator, "Content-Type": "application/json"}, content=b"{nope"
        )
        assert raw.status_code in (400, 422)
        bad_key = await client.post(url, headers={**operator, "Idempotency-Key": "a b"})
        assert bad_key.status_code == 422
        long_id = await client.post(
            f"/api/billing/admin/tenants/{'t' * 201}/remind", headers=operator
        )
        assert long_id.status_code == 422
        bad_cursor = await client.get(
            f"/api/billing/admin/tenants/{tenant}/actions",
            params={"cursor": "-1"},
            headers=operator,
        )
        assert bad_cursor.status_code == 422
    assert world.gateway.calls == []


def _sent(tenant: str, *, at: datetime, kind: str = "payment_failed", status: str = "sent") -> Any:
    return new_event(
        NotificationSent,
        tenant_id=tenant,
        source="notifications",
        causation_id=f"mail-{uuid.uuid4().hex[:8]}",
        clock=FakeClock(at),
        kind=kind,
        subject_id=f"in_{tenant}",
        to="billing@example.com",
        status=status,
        sent_at=at,
    )


async def test_the_last_email_comes_from_notification_sent_newest_wins(
    app_client: AppClient,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    operator: dict[str, str],
) -> None:
    cur = currency()
    tenant = build.tenant()
    await seed(pool, world, failing(build, tenant, amount=2900, cur=cur))
    newer = _sent(tenant, at=T0 + timedelta(hours=2), kind="payment_failed")
    older = _sent(tenant, at=T0, kind="trial_ending", status="failed")
    bus = InMemoryBus()
    async with bus, app_client(gateway=world.gateway, clock=FakeClock(T0), bus=bus) as (client, _):
        for event in (newer, older, newer):  # late and redelivered
            await bus.publish(OutgoingMessage.from_event(event))
        await bus.drain()
        listed = await client.get(QUEUE, params={"tenant_id": tenant}, headers=operator)
    (row,) = listed.json()["tenants"]
    assert row["last_email"] == {
        "kind": "payment_failed",
        "subject_id": f"in_{tenant}",
        "to": "billing@example.com",
        "status": "sent",
        "sent_at": "2026-12-01T14:00:00Z",
    }
    kept = await pool.fetchval(
        f"SELECT count(*) FROM {SCHEMA}.last_notifications WHERE tenant_id = $1", tenant
    )
    assert kept == 1
    assert world.gateway.calls == []
