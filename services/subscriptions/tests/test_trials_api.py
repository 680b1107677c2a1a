"""The trials' HTTP contract on Postgres with a fake Stripe: convert now and its preview
(owner), the operator's extension (billing:admin) and its audit; hostile callers and
bodies change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from billing_domain.auth import ADMIN_SCOPE
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_platform.testing.clock import FakeClock
from subscriptions.adapters.postgres import PgAccountReader, PgSubscriptionsUnitOfWork
from subscriptions.testing import T0, AppClient, Builders, World

pytestmark = pytest.mark.integration

TRIAL_END = T0 + timedelta(days=10)


async def seed(pool: asyncpg.Pool, world: World, account: BillingAccount) -> BillingAccount:
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        await uow.accounts.save(account)
        await uow.commit()
    snapshot = account.snapshot()
    if snapshot is not None:
        world.gateway.put(snapshot)
    return account


async def seed_trial(
    pool: asyncpg.Pool, world: World, build: type[Builders], *, card: bool = True
) -> str:
    tenant = build.tenant()
    await seed(
        pool,
        world,
        build.paid_account(
            tenant,
            status=SubscriptionStatus.TRIALING,
            period_end=TRIAL_END,
            trial_end=TRIAL_END,
            has_payment_method=card,
        ),
    )
    return tenant


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def operator(token: Callable[..., str]) -> dict[str, str]:
    return bearer(token("ops", "member", scopes=[ADMIN_SCOPE], user_id="ops-ann"))


async def test_get_says_days_left_and_whether_there_is_a_card(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = await seed_trial(pool, world, build, card=False)
    clock = FakeClock(T0 + timedelta(days=7, hours=1))
    async with app_client(gateway=world.gateway, clock=clock) as (client, _):
        body = (
            await client.get("/api/billing/subscription", headers=bearer(token(tenant, "member")))
        ).json()
    assert (body["status"], body["has_payment_method"], body["trial_ends_in_days"]) == (
        "trialing",
        False,
        3,
    )
    assert world.gateway.calls == []


async def test_convert_now_previews_then_charges(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = await seed_trial(pool, world, build)
    owner = bearer(token(tenant))
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        preview = await client.post("/api/billing/subscription/trial/end/preview", headers=owner)
        assert preview.status_code == 200, preview.text
        assert preview.json() == {"amount_due": 2900, "currency": "usd", "period_end": None}
        converted = await client.post("/api/billing/subscription/trial/end", headers=owner)
        assert converted.status_code == 200, converted.text
        assert (converted.json()["status"], converted.json()["trial_ends_in_days"]) == (
            "active",
            None,
        )
        again = await client.post("/api/billing/subscription/trial/end", headers=owner)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_trialing"
    assert world.gateway.calls == ["preview_trial_end", "end_trial_now"]


async def test_convert_now_refusals(
    app_client: AppClient,
    token: Callable[..., str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = await seed_trial(pool, world, build, card=False)
    other = await seed_trial(pool, world, build)
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        for path in (
            "/api/billing/subscription/trial/end",
            "/api/billing/subscription/trial/end/preview",
        ):
            no_card = await client.post(path, headers=bearer(token(tenant)))
            assert no_card.status_code == 409
            assert no_card.json()["error"]["code"] == "payment_method_required"
            member = await client.post(path, headers=bearer(token(other, "member")))
            assert member.status_code == 403
            foreign = await client.post(
                path, headers=bearer(token(tenant)), params={"tenant_id": other}
            )
            assert foreign.status_code == 403
            anonymous = await client.post(path)
            assert anonymous.status_code == 401
        free = await client.post(
            "/api/billing/subscription/trial/end", headers=bearer(token(build.tenant()))
        )
        assert free.status_code == 409
    assert world.gateway.calls == []
    stored = await PgAccountReader(pool).find(other)
    assert stored is not None
    assert stored.status is SubscriptionStatus.TRIALING


async def test_an_operator_extends_within_the_cap_and_it_is_audited(
    app_client: AppClient,
    operator: dict[str, str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    tenant = await seed_trial(pool, world, build, card=False)
    path = f"/api/billing/admin/tenants/{tenant}/trial"
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        first = await client.post(path, headers=operator, json={"extend_days": 25, "reason": "SSO"})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["extend_days"] == 25
        assert body["total_extended_days"] == 25
        assert body["max_extension_days"] == 30
        assert body["trial_end"] == (TRIAL_END + timedelta(days=25)).isoformat().replace(
            "+00:00", "Z"
        )
        assert body["subscription"]["status"] == "trialing"
        capped = await client.post(path, headers=operator, json={"extend_days": 6})
        assert capped.status_code == 409
        assert capped.json()["error"]["code"] == "trial_extension_cap"
        audit = await client.get(
            "/api/billing/admin/trial-extensions", headers=operator, params={"tenant_id": tenant}
        )
    assert audit.status_code == 200
    (row,) = audit.json()
    assert (row["operator_sub"], row["reason"], row["extend_days"], row["status"]) == (
        "ops-ann",
        "SSO",
        25,
        "applied",
    )
    assert world.gateway.calls == ["move_trial_end"]


BAD_BODIES: list[Any] = [
    {},
    {"extend_days": 0},
    {"extend_days": 31},
    {"extend_days": -3},
    {"extend_days": "7"},
    {"extend_days": 7.5},
    {"extend_days": True},
    {"extend_days": 7, "reason": "x" * 501},
    {"extend_days": 7, "reason": 5},
    {"extend_days": 7, "sneaky": 1},
    [7],
]


@pytest.mark.parametrize("body", BAD_BODIES)
async def test_bad_extension_bodies_are_422_and_change_nothing(
    app_client: AppClient,
    operator: dict[str, str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
    body: Any,
) -> None:
    tenant = await seed_trial(pool, world, build)
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        response = await client.post(
            f"/api/billing/admin/tenants/{tenant}/trial", headers=operator, json=body
        )
    assert response.status_code == 422, response.text
    assert world.gateway.calls == []
    stored = await PgAccountReader(pool).find(tenant)
    assert stored is not None
    assert stored.trial_end == TRIAL_END


async def test_extension_refusals(
    app_client: AppClient,
    token: Callable[..., str],
    operator: dict[str, str],
    pool: asyncpg.Pool,
    world: World,
    build: type[Builders],
) -> None:
    trial = await seed_trial(pool, world, build)
    active = build.tenant()
    await seed(pool, world, build.paid_account(active))
    body = {"extend_days": 3, "reason": "why not"}
    async with app_client(gateway=world.gateway, clock=FakeClock(T0)) as (client, _):
        not_trialing = await client.post(
            f"/api/billing/admin/tenants/{active}/trial", headers=operator, json=body
        )
        assert not_trialing.status_code == 409
        assert not_trialing.json()["error"]["code"] == "not_trialing"
        unknown = await client.post(
            "/api/billing/admin/tenants/tenant-never-seen/trial", headers=operator, json=body
        )
        assert unknown.status_code == 404
        too_long = await client.post(
            f"/api/billing/admin/tenants/{'t' * 201}/trial", headers=operator, json=body
        )
        assert too_long.status_code == 422
        for role in ("owner", "admin", "member"):  # the tenant's own people are not operators
            own = await client.post(
                f"/api/billing/admin/tenants/{trial}/trial",
                headers=bearer(token(trial, role)),
                json={"extend_days": 99},  # 403 before the body is read
            )
            assert own.status_code == 403
        listing = await client.get(
            "/api/billing/admin/trial-extensions", headers=bearer(token(trial))
        )
        assert listing.status_code == 403
        anonymous = await client.post(f"/api/billing/admin/tenants/{trial}/trial", json=body)
        assert anonymous.status_code == 401
    assert world.gateway.calls == []
    stored = await PgAccountReader(pool).find(trial)
    assert stored is not None
    assert stored.trial_end == TRIAL_END
