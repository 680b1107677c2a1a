"""Each service boots on its migrated schema and answers the operations endpoints."""

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_cli.main import app as cli
from billing_cli.services import SERVICES
from billing_platform.migrations import downgrade, upgrade
from billing_platform.settings import BillingSettings
from typer.testing import CliRunner

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def migrated(database_url: str) -> str:
    result = CliRunner().invoke(cli, ["migrate"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    for name in SERVICES:
        assert f"{name}: migrated to head" in result.output
    return database_url


async def test_each_schema_has_its_own_history_outbox_and_inbox(migrated: str) -> None:
    conn = await asyncpg.connect(migrated)
    try:
        for name in SERVICES:
            tables = {
                r["table_name"]
                for r in await conn.fetch(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", name
                )
            }
            assert {"alembic_version", "outbox", "inbox"} <= tables
            version = await conn.fetchval(f"SELECT version_num FROM {name}.alembic_version")
            assert version.startswith(f"{name}_")
    finally:
        await conn.close()


@pytest.mark.parametrize("name", list(SERVICES))
async def test_service_answers_health_readiness_metrics_and_docs(
    migrated: str, amqp_url: str, exchange_name: str, name: str
) -> None:
    settings = BillingSettings(
        database_url=migrated,
        amqp_url=amqp_url,
        billing_exchange=exchange_name,
        jwt_secret="j" * 32,
    )
    app = SERVICES[name].create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}
            metrics = await client.get("/metrics")
            assert "billing_http_requests_total" in metrics.text
            assert (await client.get("/openapi.json")).json()["info"]["title"] == f"billing {name}"
            assert (await client.get("/docs")).status_code == 200


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    spec = SERVICES["webhooks"]
    upgrade(spec.migrations, database_url)
    downgrade(spec.migrations, database_url, "base")
    upgrade(spec.migrations, database_url)


def test_migrate_without_database_url_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["migrate"], env={"DATABASE_URL": ""})
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output


def test_bad_configuration_is_reported_not_raised() -> None:
    result = CliRunner().invoke(cli, ["migrate"], env={"DATABASE_URL": "mysql://nope"})
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.output
    assert "Traceback" not in result.output
