"""The operators' listing of every tenant's subscription (``GET
/api/billing/admin/subscriptions``) on Postgres: keyset paging by tenant id, the fields the
analytics backfill reads, and hostile callers (no token, tenant tokens, bad cursors)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable

import asyncpg
import pytest
from billing_domain.plans import BillingInterval, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.testing.clock import FakeClock
from subscriptions.account_listing import encode_cursor
from subscriptions.adapters.postgres import PgSubscriptionsUnitOfWork
from subscriptions.testing import T0, AppClient, Builders, World

pytestmark = pytest.mark.integration

LISTING = "/api/billing/admin/subscriptions"
KEYS = {
    "tenant_id",
    "plan",
    "interval",
    "status",
    "cancel_at_period_end",
    "current_period_end",
    "trial_end",
    "stripe_customer_id",
    "stripe_subscription_id",
    "updated_at",
}


async def seed(pool: asyncpg.Pool, *accounts: BillingAccount) -> None:
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        for account in accounts:
            await uow.accounts.save(account)
        await uow.commit()


@pytest.fixture
def operator(token: Callable[..., str]) -> dict[str, str]:
    minted = token("ops", "member", scopes=["billing:admin"], user_id="op-1")
    return {"Authorization": f"Bearer {minted}"}


async def test_pages_by_tenant_id_through_every_account(
    app_client: AppClient,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    operator: dict[str, str],
) -> None:
    prefix = f"lst_{uuid.uuid4().hex[:8]}_"
    yearly = build.paid_account(f"{prefix}a", plan=PlanType.SOLO, interval=BillingInterval.YEAR)
    trial = build.paid_account(f"{prefix}b", status=SubscriptionStatus.TRIALING)
    paying = build.paid_account(f"{prefix}c", plan=PlanType.ENTERPRISE)
    await seed(pool, yearly, trial, paying)
    async with (
        InMemoryBus() as bus,
        app_client(gateway=world.gateway, clock=FakeClock(T0), bus=bus) as (client, _),
    ):
        seen = []
        params: dict[str, str | int] = {"limit": 1, "cursor": encode_cursor(prefix)}
        while True:
            page = await client.get(LISTING, params=params, headers=operator)
            assert page.status_code == 200, page.text
            rows = page.json()["subscriptions"]
            assert len(rows) == 1
            assert set(rows[0]) == KEYS
            if not rows[0]["tenant_id"].startswith(prefix):
                break
            seen.append(rows[0])
            if page.json()["next_cursor"] is None:
                break
            params["cursor"] = page.json()["next_cursor"]
        assert [r["tenant_id"] for r in seen] == [f"{prefix}a", f"{prefix}b", f"{prefix}c"]
        first, second, third = seen
        assert (first["plan"], first["interval"], first["status"]) == ("solo", "year", "active")
        assert first["stripe_subscription_id"] == yearly.stripe_subscription_id
        assert first["stripe_customer_id"] == yearly.stripe_customer_id
        assert first["current_period_end"] == "2026-12-21T12:00:00Z"
        assert second["status"] == "trialing"
        assert (third["plan"], third["interval"]) == ("enterprise", "month")
        assert third["updated_at"].endswith("Z")

        whole = await client.get(
            LISTING, params={"cursor": encode_cursor(prefix), "limit": 500}, headers=operator
        )
        ids = [r["tenant_id"] for r in whole.json()["subscriptions"]]
        assert ids == sorted(ids)
        assert ids[:3] == [f"{prefix}a", f"{prefix}b", f"{prefix}c"]
        assert world.gateway.calls == []  # the read never calls Stripe


async def test_hostile_callers_and_input_are_refused(
    app_client: AppClient,
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    token: Callable[..., str],
    operator: dict[str, str],
) -> None:
    tenant = build.tenant()
    await seed(pool, build.paid_account(tenant))
    owner = {"Authorization": f"Bearer {token(tenant, 'owner')}"}
    member = {"Authorization": f"Bearer {token(tenant, 'member')}"}
    reader = {"Authorization": f"Bearer {token('svc', 'member', scopes=['billing:read'])}"}
    async with (
        InMemoryBus() as bus,
        app_client(gateway=world.gateway, clock=FakeClock(T0), bus=bus) as (client, _),
    ):
        assert (await client.get(LISTING)).status_code == 401
        bogus = {"Authorization": "Bearer not-a-token"}
        assert (await client.get(LISTING, headers=bogus)).status_code == 401
        for headers in (owner, member, reader):
            refused = await client.get(LISTING, headers=headers)
            assert refused.status_code == 403, refused.text
            assert tenant not in refused.text
            # a bad cursor from a tenant's token is still a 403, not a 422
            assert (
                await client.get(LISTING, params={"cursor": "%%%"}, headers=headers)
            ).status_code == 403
        for limit in ("0", "501", "-1", "ten"):
            bad = await client.get(LISTING, params={"limit": limit}, headers=operator)
            assert bad.status_code == 422, (limit, bad.text)
        nul = base64.urlsafe_b64encode(b"a\x00b").decode()
        for cursor in (
            "%%%",
            "!!",
            nul,
            "",
            "x" * 301,
            base64.b64encode(b"\xff\xfe").decode(),
        ):
            bad = await client.get(LISTING, params={"cursor": cursor}, headers=operator)
            assert bad.status_code == 422, (cursor, bad.text)
