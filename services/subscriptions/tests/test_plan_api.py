"""Plan-change API (issue 19): entitlements, interval and when, undoing a scheduled change,
and the hostile cases of each (other tenants, service tokens, roles, bad bodies)."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest
from billing_domain.plans import BillingInterval, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange
from subscriptions.adapters.postgres import PgSubscriptionsUnitOfWork
from subscriptions.testing import AppClient, Builders, World

pytestmark = pytest.mark.integration

ENTITLEMENTS = "/api/billing/entitlements"
PENDING = "/api/billing/subscription/pending-change"


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


async def stored(pool: asyncpg.Pool, tenant: str) -> BillingAccount:
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        return await uow.accounts.get_for_update(tenant)


async def test_entitlements_of_a_member_and_of_a_service(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant, never_seen = build.tenant(), build.tenant()
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.TEAM))
    service = bearer(token(build.tenant(), "member", scopes=["billing:read"]))
    async with app_client(gateway=world.gateway, clock=world.clock) as (client, _):
        mine = await client.get(ENTITLEMENTS, headers=bearer(token(tenant, "member")))
        theirs = await client.get(ENTITLEMENTS, params={"tenant_id": tenant}, headers=service)
        fresh = await client.get(ENTITLEMENTS, headers=bearer(token(never_seen, "member")))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert set(body) == {"tenant_id", "plan", "features", "limits", "as_of"}
    assert (body["tenant_id"], body["plan"]) == (tenant, "team")
    assert body["features"] == {"support": "priority", "sso": False, "audit_log": True}
    assert body["limits"] == {"seats": 20, "projects": 100, "api_calls_per_month": 1_000_000}
    assert theirs.status_code == 200
    assert theirs.json() == body
    assert fresh.json()["plan"] == "free"  # a tenant's own token: free, not unknown
    assert world.gateway.calls == []  # never Stripe


@pytest.mark.parametrize(
    "status", [SubscriptionStatus.PAUSED, SubscriptionStatus.UNPAID, SubscriptionStatus.CANCELED]
)
async def test_a_subscription_without_access_grants_free(
    status: SubscriptionStatus,
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.ENTERPRISE, status=status))
    async with app_client(gateway=world.gateway) as (client, _):
        got = await client.get(ENTITLEMENTS, headers=bearer(token(tenant, "member")))
    assert got.json()["plan"] == "free"
    assert got.json()["features"]["sso"] is False


async def test_entitlements_hostile(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant, other = build.tenant(), build.tenant()
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.ENTERPRISE))
    async with app_client(gateway=world.gateway) as (client, _):
        member_of_other = await client.get(
            ENTITLEMENTS, params={"tenant_id": tenant}, headers=bearer(token(other, "owner"))
        )
        service_without_scope = await client.get(
            ENTITLEMENTS,
            params={"tenant_id": tenant},
            headers=bearer(token(other, "member", scopes=["billing:other"])),
        )
        operator = await client.get(
            ENTITLEMENTS,
            params={"tenant_id": tenant},
            headers=bearer(token(other, "owner", scopes=["billing:admin"])),
        )
        unknown = await client.get(
            ENTITLEMENTS,
            params={"tenant_id": "tenant-nobody-knows"},
            headers=bearer(token(other, "member", scopes=["billing:read"])),
        )
        too_long = await client.get(
            ENTITLEMENTS, params={"tenant_id": "x" * 201}, headers=bearer(token(tenant))
        )
        anonymous = await client.get(ENTITLEMENTS, params={"tenant_id": tenant})
    for refused in (member_of_other, service_without_scope, operator):
        assert refused.status_code == 403, refused.text
        assert "enterprise" not in refused.text
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_tenant"
    assert too_long.status_code == 422
    assert anonymous.status_code == 401


async def test_undo_a_scheduled_downgrade(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    pending = PendingPlanChange(plan=PlanType.SOLO, effective_at=world.clock.now())
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.TEAM, pending_plan=pending))
    owner = bearer(token(tenant))
    async with app_client(gateway=world.gateway, clock=world.clock) as (client, _):
        undone = await client.delete(PENDING, headers=owner)
        again = await client.delete(PENDING, headers=owner)
    assert undone.status_code == 200, undone.text
    body = undone.json()
    assert body["pending_plan"] is None
    assert body["plan_type"] == "team"
    assert body["withdrawn"]["plan"] == "solo"
    assert (await stored(pool, tenant)).pending_plan is None
    assert "release_pending_change" in world.gateway.calls
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "no_pending_change"


async def test_undo_hostile(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant, other = build.tenant(), build.tenant()
    pending = PendingPlanChange(plan=PlanType.SOLO, effective_at=world.clock.now())
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.TEAM, pending_plan=pending))
    async with app_client(gateway=world.gateway, clock=world.clock) as (client, _):
        member = await client.delete(PENDING, headers=bearer(token(tenant, "member")))
        other_owner = await client.delete(
            PENDING, params={"tenant_id": tenant}, headers=bearer(token(other))
        )
        free = await client.delete(PENDING, headers=bearer(token(other)))
    assert (member.status_code, other_owner.status_code) == (403, 403)
    assert free.status_code == 409  # no subscription: nothing to undo
    assert (await stored(pool, tenant)).pending_plan == pending  # nothing changed
    assert world.gateway.calls == []


async def test_interval_and_when_on_preview_and_change(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.TEAM))
    owner = bearer(token(tenant))
    async with app_client(gateway=world.gateway, clock=world.clock) as (client, _):
        yearly = {"plan": "team", "interval": "year"}
        preview = await client.post("/api/billing/proration", json=yearly, headers=owner)
        assert preview.status_code == 200, preview.text
        shown = preview.json()
        assert (shown["effective"], shown["interval"]) == ("now", "year")
        monthly_quote = {"plan": "team", "proration_date": shown["proration_date"]}
        wrong_interval = await client.post(
            "/api/billing/subscription/plan", json=monthly_quote, headers=owner
        )
        assert wrong_interval.status_code == 409  # team monthly: the same plan and price
        changed = await client.post(
            "/api/billing/subscription/plan",
            json={**yearly, "proration_date": shown["proration_date"]},
            headers=owner,
        )
        assert changed.status_code == 200, changed.text
        assert (changed.json()["interval"], changed.json()["effective"]) == ("year", "now")
        back_now = await client.post(
            "/api/billing/subscription/plan",
            json={"plan": "team", "interval": "month", "when": "now"},
            headers=owner,
        )
        assert back_now.status_code == 422
        assert back_now.json()["error"]["code"] == "when_not_possible"
        at_renewal = await client.post(
            "/api/billing/proration", json={"plan": "team", "interval": "month"}, headers=owner
        )
        assert at_renewal.json()["effective"] == "period_end"
        assert at_renewal.json()["proration_amount"] == 0
    account = await stored(pool, tenant)
    assert (account.plan, account.interval) == (PlanType.TEAM, BillingInterval.YEAR)


@pytest.mark.parametrize(
    "body",
    [
        {"plan": "team", "interval": "week"},
        {"plan": "team", "interval": "yearly"},
        {"plan": "team", "when": "tomorrow"},
        {"plan": "team", "when": None, "extra": 1},
        {"plan": "team", "interval": 12},
    ],
)
async def test_bad_interval_or_when_is_a_422_before_stripe(
    body: dict[str, object],
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.SOLO))
    async with app_client(gateway=world.gateway, clock=world.clock) as (client, _):
        for path in ("/api/billing/proration", "/api/billing/subscription/plan"):
            refused = await client.post(path, json=body, headers=bearer(token(tenant)))
            assert refused.status_code == 422, (path, refused.text)
        member = await client.post(
            "/api/billing/subscription/plan", json=body, headers=bearer(token(tenant, "member"))
        )
    assert member.status_code == 403  # the role is checked before the body
    assert world.gateway.calls == []
    assert (await stored(pool, tenant)).plan is PlanType.SOLO


async def test_cancel_says_which_scheduled_change_it_dropped(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = build.tenant()
    pending = PendingPlanChange(plan=PlanType.SOLO, effective_at=world.clock.now())
    await seed(pool, world, build.paid_account(tenant, plan=PlanType.TEAM, pending_plan=pending))
    async with app_client(gateway=world.gateway, clock=world.clock) as (client, _):
        canceled = await client.delete("/api/billing/subscription", headers=bearer(token(tenant)))
    assert canceled.status_code == 200, canceled.text
    dropped = canceled.json()["pending_change_dropped"]
    assert (dropped["plan"], dropped["interval"]) == ("solo", "month")
    assert canceled.json()["pending_plan"] is None
