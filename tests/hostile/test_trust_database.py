"""Issue 15 item 8: every service connected as the Postgres superuser, so one leaked
``DATABASE_URL`` (or one SQL injection) read every service's tables.

deploy/postgres/roles.sql (what docker-compose's Postgres runs at first start) is run
here, for real, on a database of its own: migrations as ``billing_owner``, then each
service role may use its own schema and nothing else, and a service runs on its role.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_cli.services import SERVICES
from billing_cli.testing.in_process import Webhooks
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings
from billing_platform.testing.plugin import throwaway_database
from billing_platform.testing.waiting import wait_until

pytestmark = pytest.mark.integration

ROLES_SQL = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "roles.sql"
OTHER_TABLES = {
    "billing_checkout": ["subscriptions.billing_accounts", "webhooks.customer_tenants"],
    "billing_subscriptions": ["checkout.checkout_sessions", "webhooks.stripe_webhook_events_log"],
    "billing_webhooks": ["checkout.checkout_sessions", "subscriptions.billing_accounts"],
}
OWN_TABLE = {
    "billing_checkout": "checkout.checkout_sessions",
    "billing_subscriptions": "subscriptions.billing_accounts",
    "billing_webhooks": "webhooks.stripe_webhook_events_log",
}


def as_role(url: str, role: str) -> str:
    """The same server and database, logged in as ``role`` (trust auth on 127.0.0.1)."""
    parts = urlsplit(url)
    netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture(scope="module")
async def roles_database(postgres_server_url: str) -> AsyncIterator[str]:
    async with throwaway_database(postgres_server_url, "billing_roles") as url:
        superuser = await asyncpg.connect(url)
        try:
            await superuser.execute(ROLES_SQL.read_text())
        finally:
            await superuser.close()
        owner = as_role(url, "billing_owner")
        await upgrade_async([spec.migrations for spec in SERVICES.values()], owner)
        yield url


async def test_the_owner_role_owns_every_table(roles_database: str) -> None:
    conn = await asyncpg.connect(roles_database)
    try:
        owners = await conn.fetch(
            "SELECT DISTINCT tableowner FROM pg_tables "
            "WHERE schemaname IN ('checkout', 'subscriptions', 'webhooks')"
        )
    finally:
        await conn.close()
    assert [row["tableowner"] for row in owners] == ["billing_owner"]


@pytest.mark.parametrize("role", list(OTHER_TABLES))
async def test_a_service_role_reads_its_own_schema_and_no_other(
    roles_database: str, role: str
) -> None:
    conn = await asyncpg.connect(as_role(roles_database, role))
    try:
        await conn.fetchval(f"SELECT count(*) FROM {OWN_TABLE[role]}")
        for table in OTHER_TABLES[role]:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetchval(f"SELECT count(*) FROM {table}")
        own_schema = OWN_TABLE[role].split(".")[0]
        for ddl in (
            f"CREATE TABLE {own_schema}.sneaky (x int)",
            "CREATE TABLE public.sneaky (x int)",
            f"DROP TABLE {OWN_TABLE[role]}",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(ddl)
    finally:
        await conn.close()


async def test_the_webhooks_service_runs_on_its_own_role(
    roles_database: str, webhooks: Webhooks
) -> None:
    """Ingest, the worker, the outbox and the customer map all work as billing_webhooks."""
    settings = BillingSettings(
        database_url=as_role(roles_database, "billing_webhooks"),
        jwt_secret="roles-test-jwt-secret-0123456789abcdef",
        stripe_api_key="sk_test_roles",
        stripe_webhook_secret=["whsec_hostile_current"],
    )
    bus = InMemoryBus()
    app = SERVICES["webhooks"].create_app(settings, bus=bus)
    customer, tenant = f"cus_{uuid.uuid4().hex[:12]}", f"tenant_{uuid.uuid4().hex[:8]}"
    event = webhooks.event(
        {"id": customer, "object": "customer", "metadata": {"tenant_id": tenant}},
        "customer.created",
    )
    payload = json.dumps(event).encode()
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://webhooks") as client:
            assert (await client.get("/readyz")).status_code == 200
            response = await client.post(
                "/api/webhooks/stripe", content=payload, headers=webhooks.signed(payload)
            )
            assert response.status_code == 200, response.text
            conn = await asyncpg.connect(roles_database)
            try:

                async def mapped() -> bool:
                    found = await conn.fetchval(
                        "SELECT tenant_id FROM webhooks.customer_tenants "
                        "WHERE stripe_customer_id = $1",
                        customer,
                    )
                    return bool(found == tenant)

                assert await wait_until(mapped, timeout=15)
            finally:
                await conn.close()
    await bus.close()
