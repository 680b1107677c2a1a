"""The HTTP contract on Postgres with a fake Stripe: bodies, status codes, auth, hostile input."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import asyncpg
import jwt
import pytest
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange
from billing_domain.timestamps import to_rfc3339
from subscriptions.adapters.postgres import PgSubscriptionsUnitOfWork
from subscriptions.testing import AppClient, Builders, World

pytestmark = pytest.mark.integration

SUBSCRIPTION_KEYS = {
    "interval",
    "tenant_id",
    "plan_type",
    "status",
    "status_label",
    "cancel_at_period_end",
    "current_period_end",
    "trial_end",
    "payment_failed",
    "pending_plan",
    "has_payment_method",
    "trial_ends_in_days",
    "ended",
}
OWNER_ENDPOINTS = [
    ("DELETE", "/api/billing/subscription", None),
    ("POST", "/api/billing/subscription/resume", None),
    ("POST", "/api/billing/proration", {"plan": "enterprise"}),
    ("POST", "/api/billing/subscription/plan", {"plan": "enterprise"}),
]


async def seed(pool: asyncpg.Pool, world: World, account: BillingAccount) -> BillingAccount:
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        await uow.accounts.save(account)
        await uow.commit()
    snapshot = account.snapshot()
    if snapshot is not None:
        world.gateway.put(snapshot)
    return account


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def test_never_seen_tenant_is_free_and_active(
    app_client: AppClient, token: Callable[..., str], world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    async with app_client(gateway=world.gateway) as (client, _):
        response = await client.get(
            "/api/billing/subscription", headers=bearer(token(tenant, "member"))
        )
    assert response.status_code == 200
    assert response.json() == {
        "tenant_id": tenant,
        "plan_type": "free",
        "status": "active",
        "status_label": "Active",
        "cancel_at_period_end": False,
        "current_period_end": None,
        "trial_end": None,
        "payment_failed": None,
        "pending_plan": None,
        "has_payment_method": False,
        "trial_ends_in_days": None,
        "interval": "month",
        "ended": None,
    }
    assert world.gateway.calls == []


async def test_body_carries_payment_failure_and_pending_plan(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    from billing_domain.money import Money
    from billing_domain.payment_failure import PaymentFailure

    tenant = build.tenant()
    account = build.paid_account(
        tenant,
        plan=PlanType.ENTERPRISE,
        status=SubscriptionStatus.PAST_DUE,
        payment_failure=PaymentFailure(
            amount_due=Money(amount=9900, currency="usd"),
            hosted_invoice_url="https://pay.example/in_1",
            next_payment_attempt=world.clock.now(),
            invoice_id="in_1",
            since=world.clock.now(),
        ),
        pending_plan=PendingPlanChange(plan=PlanType.SOLO, effective_at=world.clock.now()),
    )
    await seed(pool, world, account)
    async with app_client(gateway=world.gateway) as (client, _):
        body = (
            await client.get("/api/billing/subscription", headers=bearer(token(tenant, "admin")))
        ).json()
    assert set(body) == SUBSCRIPTION_KEYS
    assert (body["plan_type"], body["status"], body["status_label"]) == (
        "enterprise",
        "past_due",
        "Past Due",
    )
    assert body["current_period_end"] == "2026-12-21T12:00:00Z"
    assert body["payment_failed"] == {
        "amount_due": 9900,
        "currency": "usd",
        "hosted_invoice_url": "https://pay.example/in_1",
        "next_payment_attempt": "2026-12-01T12:00:00Z",
        "invoice_id": "in_1",  # for POST /api/billing/invoices/{id}/pay
        "since": "2026-12-01T12:00:00Z",  # "Payment overdue since" on the pages
        "attempt_count": 1,
        "requires_action": False,  # True: "Confirm payment" (3-D Secure)
        "decline_code": None,  # the latest attempt's, for the page to word
        "card": None,
        "attempts": [],
    }
    assert body["pending_plan"] == {
        "plan": "solo",
        "effective_at": "2026-12-01T12:00:00Z",
        "interval": "month",
    }
    assert world.gateway.calls == []


async def test_owner_flow_cancel_resume_preview_and_plan_change(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.SOLO))
    owner = bearer(token(tenant))
    async with app_client(gateway=world.gateway, clock=world.clock) as (client, _):
        canceled = await client.delete("/api/billing/subscription", headers=owner)
        assert canceled.status_code == 200, canceled.text
        assert canceled.json()["cancel_at_period_end"] is True
        assert canceled.json()["pending_change_dropped"] is None
        read = await client.get("/api/billing/subscription", headers=owner)
        assert read.json()["cancel_at_period_end"] is True  # at once, before any webhook
        again = await client.delete("/api/billing/subscription", headers=owner)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_scheduled"

        resumed = await client.post("/api/billing/subscription/resume", headers=owner)
        assert resumed.status_code == 200
        assert resumed.json()["cancel_at_period_end"] is False
        nothing = await client.post("/api/billing/subscription/resume", headers=owner)
        assert nothing.status_code == 409

        preview = await client.post("/api/billing/proration", json={"plan": "team"}, headers=owner)
        assert preview.status_code == 200, preview.text
        shown = preview.json()
        assert shown == {
            "proration_amount": 2000,
            "next_invoice_amount": 4900,
            "currency": "usd",
            "proration_date": int(world.clock.now().timestamp()),
            "effective": "now",
            "effective_at": to_rfc3339(world.clock.now()),
            "interval": "month",
        }
        changed = await client.post(
            "/api/billing/subscription/plan",
            json={"plan": "team", "proration_date": shown["proration_date"]},
            headers=owner,
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["effective"] == "now"
        assert changed.json()["plan_type"] == "team"
        assert set(changed.json()) == SUBSCRIPTION_KEYS | {"effective", "effective_at"}
        assert world.gateway.proration_dates == [world.clock.now()]

        down = await client.post(
            "/api/billing/subscription/plan", json={"plan": "solo"}, headers=owner
        )
        assert down.json()["effective"] == "period_end"
        assert down.json()["plan_type"] == "team"
        assert down.json()["pending_plan"]["plan"] == "solo"

    rows = await pool.fetch(
        "SELECT routing_key FROM subscriptions.outbox WHERE tenant_id = $1 ORDER BY id", tenant
    )
    assert [r["routing_key"] for r in rows] == [
        "billing.subscription.cancel_scheduled",
        "billing.subscription.resumed",
        "billing.subscription.plan_changed",
        "billing.entitlements.changed",  # the upgrade now; the downgrade grants at its time
        "billing.subscription.plan_changed",
    ]


async def test_conflicts_and_unknown_plans(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    free = bearer(token(build.tenant()))
    paid_tenant = build.tenant()
    await seed(pool, world, build.paid_account(paid_tenant, plan=PlanType.TEAM))
    paid = bearer(token(paid_tenant))
    async with app_client(gateway=world.gateway) as (client, _):
        for method, path, body in OWNER_ENDPOINTS:
            response = await client.request(method, path, json=body, headers=free)
            assert response.status_code == 409, (path, response.text)
        same = await client.post("/api/billing/proration", json={"plan": "team"}, headers=paid)
        assert same.status_code == 409
        for plan in ("platinum", "", "x" * 65):
            unknown = await client.post("/api/billing/proration", json={"plan": plan}, headers=paid)
            assert unknown.status_code == 422, plan
            assert set(unknown.json()["error"]) >= {"code", "message"}
        to_free = await client.post(
            "/api/billing/subscription/plan", json={"plan": "free"}, headers=paid
        )
        assert to_free.status_code == 422
    assert world.gateway.calls == []


async def test_members_and_other_tenants_are_forbidden(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant, other = build.tenant(), build.tenant()
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.TEAM))
    async with app_client(gateway=world.gateway) as (client, _):
        for role in ("member", "admin"):
            for method, path, body in OWNER_ENDPOINTS:
                response = await client.request(
                    method, path, json=body, headers=bearer(token(tenant, role))
                )
                assert response.status_code == 403, (role, path)
                assert response.json()["error"]["code"] == "owner_only"
                if body is not None:  # the role is refused before the body is looked at
                    invalid = await client.request(
                        method, path, json={"plan": 7}, headers=bearer(token(tenant, role))
                    )
                    assert invalid.status_code == 403, (role, path)
        owner_of_other = bearer(token(other))
        for method, path, body in [("GET", "/api/billing/subscription", None), *OWNER_ENDPOINTS]:
            by_query = await client.request(
                method, path, json=body, params={"tenant_id": tenant}, headers=owner_of_other
            )
            assert by_query.status_code == 403, path
            assert by_query.json()["error"]["code"] == "other_tenant"
            by_header = await client.request(
                method, path, json=body, headers={**owner_of_other, "X-Tenant-ID": tenant}
            )
            assert by_header.status_code == 403, path
    assert world.gateway.calls == []


@pytest.fixture
def bad_tokens(token: Callable[..., str], build: type[Builders]) -> dict[str, dict[str, str]]:
    tenant = build.tenant()
    now = int(time.time())
    claims = {"sub": "u1", "tenant_id": tenant, "role": "owner", "exp": now + 600}
    good = token(tenant)
    header, payload, signature = good.split(".")
    return {
        "none": {},
        "empty": {"Authorization": "Bearer "},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
        "garbage": bearer("not.a.jwt"),
        "wrong key": bearer(jwt.encode(claims, "another-secret-0123456789abcdefghij", "HS256")),
        "alg none": bearer(jwt.encode(claims, "", algorithm="none")),
        "expired": bearer(token(tenant, ttl_seconds=-3600)),
        "no tenant": bearer(
            jwt.encode({k: v for k, v in claims.items() if k != "tenant_id"}, "x" * 32, "HS256")
        ),
        "bad role": bearer(token(tenant, role="superuser")),
        "tampered": bearer(f"{header}.{payload}x.{signature}"),
    }


async def test_invalid_tokens_are_refused_everywhere(
    app_client: AppClient, bad_tokens: dict[str, dict[str, str]], world: World
) -> None:
    async with app_client(gateway=world.gateway) as (client, _):
        for name, headers in bad_tokens.items():
            for method, path, body in [
                ("GET", "/api/billing/subscription", None),
                *OWNER_ENDPOINTS,
            ]:
                response = await client.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (name, path, response.text)
                assert response.json()["error"]["code"] == "unauthorized"
    assert world.gateway.calls == []


async def test_hostile_bodies_and_headers_are_422(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.SOLO))
    owner = bearer(token(tenant))
    async with app_client(gateway=world.gateway) as (client, _):
        for content in (b"", b"{", b"[]", b'"team"', b'{"plan": 3}', b'{"plan": null}'):
            response = await client.post(
                "/api/billing/proration",
                content=content,
                headers={**owner, "Content-Type": "application/json"},
            )
            assert response.status_code == 422, content
        for proration_date in (-1, 0, 10**15, "yesterday", True, [1]):
            response = await client.post(
                "/api/billing/subscription/plan",
                json={"plan": "team", "proration_date": proration_date},
                headers=owner,
            )
            assert response.status_code == 422, proration_date
        bad_key = await client.delete(
            "/api/billing/subscription", headers={**owner, "Idempotency-Key": "a b<script>"}
        )
        assert bad_key.status_code in (400, 422)
        long_tenant = await client.get(
            "/api/billing/subscription", params={"tenant_id": "t" * 500}, headers=owner
        )
        assert long_tenant.status_code == 422
    assert world.gateway.calls == []
    account = await pool.fetchval(
        "SELECT plan FROM subscriptions.billing_accounts WHERE tenant_id = $1", tenant
    )
    assert account == "solo"


async def test_a_plan_change_accepts_only_a_proration_date_a_preview_issued(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    """Issue 15 item 1 on Postgres: the issued dates are shared by every replica."""
    tenant, other = build.tenant(), build.tenant()
    account = await seed(pool, world, build.paid_account(tenant, plan=PlanType.SOLO))
    await seed(pool, world, build.paid_account(other, plan=PlanType.SOLO))
    owner, other_owner = bearer(token(tenant)), bearer(token(other))
    async with app_client(gateway=world.gateway, clock=world.clock) as (client, _):
        mine = await client.post("/api/billing/proration", json={"plan": "team"}, headers=owner)
        assert mine.status_code == 200, mine.text
        world.clock.advance(1)
        theirs = await client.post(
            "/api/billing/proration", json={"plan": "enterprise"}, headers=other_owner
        )
        assert theirs.status_code == 200, theirs.text
        assert account.current_period_end is not None
        period_end = int(account.current_period_end.timestamp())
        for plan, date in (
            ("enterprise", period_end - 120),  # the attack: nearly the whole period free
            ("enterprise", theirs.json()["proration_date"]),  # another tenant's
            ("enterprise", mine.json()["proration_date"]),  # issued for team, not enterprise
        ):
            refused = await client.post(
                "/api/billing/subscription/plan",
                json={"plan": plan, "proration_date": date},
                headers=owner,
            )
            assert refused.status_code == 422, refused.text
            assert refused.json()["error"]["code"] == "proration_date_not_issued"
        assert "change_plan_now" not in world.gateway.calls
        changed = await client.post(
            "/api/billing/subscription/plan",
            json={"plan": "team", "proration_date": mine.json()["proration_date"]},
            headers=owner,
        )
        assert changed.status_code == 200, changed.text
    assert world.gateway.proration_dates == [world.clock.now() - timedelta(seconds=1)]


async def test_undecodable_bodies_and_long_tenants_are_documented(
    app_client: AppClient, token: Callable[..., str], world: World, build: type[Builders]
) -> None:
    """Found by schemathesis (tests/hostile): answers the OpenAPI document did not list."""
    owner = bearer(token(build.tenant()))
    async with app_client(gateway=world.gateway) as (client, _):
        paths = (await client.get("/openapi.json")).json()["paths"]
        for path in ("/api/billing/proration", "/api/billing/subscription/plan"):
            response = await client.post(
                path,
                content=b'{"plan": "\xff\xfe"}',
                headers={**owner, "Content-Type": "application/json"},
            )
            assert response.status_code == 400, response.text
            assert set(response.json()["error"]) >= {"code", "message"}
            assert "400" in paths[path]["post"]["responses"], path
        for params, headers in (({"tenant_id": "t" * 201}, {}), ({}, {"X-Tenant-ID": "t" * 201})):
            response = await client.get(
                "/api/billing/subscription", params=params, headers={**owner, **headers}
            )
            assert response.status_code == 422, response.text
        assert "422" in paths["/api/billing/subscription"]["get"]["responses"]
    assert world.gateway.calls == []
