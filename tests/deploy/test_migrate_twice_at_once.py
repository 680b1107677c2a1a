"""Two migration Jobs at once are safe (deploy/k8s/README.md, "Rolling out"): each
service's alembic environment takes a Postgres advisory lock per schema before it
reads its version table, so the second `billing migrate` waits, then finds the schema
at head. Without the lock both would run the first revision and one would fail on
CREATE TABLE of a table the other just made."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest
from billing_cli.services import SERVICES
from billing_platform.testing.plugin import throwaway_database
from billing_platform.testing.processes import billing_command

pytestmark = pytest.mark.integration


async def migrate(database_url: str) -> tuple[int | None, str]:
    process = await asyncio.create_subprocess_exec(
        *billing_command("migrate"),
        env=os.environ | {"DATABASE_URL": database_url, "LOG_FORMAT": "json"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 180)
    return process.returncode, output.decode()


async def test_two_migrations_at_once_both_succeed(postgres_server_url: str) -> None:
    async with throwaway_database(postgres_server_url, "billing_migrate_twice") as url:
        results = await asyncio.gather(migrate(url), migrate(url))
        for returncode, output in results:
            assert returncode == 0, output[-3000:]
            assert output.count("migrated to head") == len(SERVICES)
        connection = await asyncpg.connect(url)
        try:
            for name in SERVICES:
                versions = await connection.fetch(f"SELECT version_num FROM {name}.alembic_version")
                assert len(versions) == 1, name
        finally:
            await connection.close()
