"""Alembic, one history per service schema.

Each service keeps ``alembic.ini`` and ``migrations/`` beside its package; its
``env.py`` is two lines that call ``run_alembic_env(schema)``. The version
table lives in the service's own schema (``<schema>.alembic_version``), and a
Postgres advisory lock serialises replicas that migrate at the same time.
Alembic speaks to Postgres through SQLAlchemy + psycopg (synchronous), which
is only ever used here.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import create_engine, pool, text

from billing_platform.sql_names import schema_name


@dataclass(frozen=True)
class MigrationSource:
    """Where a service's alembic history lives and which schema it owns."""

    schema: str
    directory: Path  # the folder holding alembic.ini and migrations/


def sqlalchemy_url(database_url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def alembic_config(source: MigrationSource, database_url: str) -> Config:
    config = Config(str(source.directory / "alembic.ini"))
    config.set_main_option("script_location", str(source.directory / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["schema"] = source.schema
    return config


def upgrade(source: MigrationSource, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(source, database_url), revision)


def downgrade(source: MigrationSource, database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(source, database_url), revision)


async def upgrade_async(sources: list[MigrationSource], database_url: str) -> None:
    """Apply every history to head, off the event loop (alembic is synchronous)."""
    for source in sources:
        await asyncio.to_thread(upgrade, source, database_url)


def run_alembic_env(default_schema: str) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config
    schema = schema_name(config.attributes.get("schema", default_schema))
    database_url = config.attributes.get("database_url") or _env_database_url()
    engine = create_engine(sqlalchemy_url(database_url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        lock_id = zlib.crc32(f"billing-migrate-{schema}".encode())
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
        try:
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
            connection.commit()
            context.configure(
                connection=connection,
                version_table_schema=schema,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
            connection.commit()
    engine.dispose()


def _env_database_url() -> str:
    from billing_platform.settings import load_settings

    settings = load_settings()
    settings.require("database_url")
    assert settings.database_url is not None
    return settings.database_url
