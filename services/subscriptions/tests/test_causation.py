"""The causation id of what an owner's change publishes is the request's id, passed
explicitly: it does not come back out of the log context."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_domain.plans import PlanType
from billing_domain.subscription import BillingAccount
from billing_platform.settings import BillingSettings
from billing_platform.testing.log_context import without_log_context
from subscriptions.adapters.postgres import PgSubscriptionsUnitOfWork
from subscriptions.main import create_app
from subscriptions.testing import World

pytestmark = pytest.mark.integration


async def test_every_change_publishes_the_request_id_as_causation(
    settings: BillingSettings,
    pool: asyncpg.Pool,
    world: World,
    token: Callable[..., str],
) -> None:
    tenant = f"tenant_{uuid.uuid4().hex[:12]}"
    account = BillingAccount(
        tenant_id=tenant,
        stripe_customer_id=f"cus_{tenant}",
        stripe_subscription_id=f"sub_{tenant}",
        plan=PlanType.SOLO,
        current_period_end=world.clock.now() + timedelta(days=20),
    )
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        await uow.accounts.save(account)
        await uow.commit()
    world.seed(account)
    owner = {"Authorization": f"Bearer {token(tenant)}"}
    app = without_log_context(create_app(settings, gateway=world.gateway, clock=world.clock))
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://subscriptions.test"
        ) as client,
    ):
        canceled = await client.delete(
            "/api/billing/subscription", headers={**owner, "X-Request-ID": "req-cancel-1"}
        )
        resumed = await client.post("/api/billing/subscription/resume", headers=owner)
        changed = await client.post(
            "/api/billing/subscription/plan",
            json={"plan": "team"},
            headers={**owner, "X-Request-ID": "req-plan-3"},
        )
    assert [r.status_code for r in (canceled, resumed, changed)] == [200, 200, 200], changed.text
    rows = await pool.fetch(
        "SELECT routing_key, body->>'causation_id' AS causation_id "
        "FROM subscriptions.outbox WHERE tenant_id = $1 ORDER BY id",
        tenant,
    )
    assert [(r["routing_key"], r["causation_id"]) for r in rows] == [
        ("billing.subscription.cancel_scheduled", "req-cancel-1"),
        ("billing.subscription.resumed", resumed.headers["x-request-id"]),
        ("billing.subscription.plan_changed", "req-plan-3"),
        ("billing.entitlements.changed", "req-plan-3"),
    ]
