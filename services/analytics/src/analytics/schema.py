"""The Postgres schema this service owns and where its alembic history lives."""

from __future__ import annotations

from pathlib import Path

from billing_platform.migrations import MigrationSource

SCHEMA = "analytics"
DEFAULT_PORT = 8005
MIGRATIONS = MigrationSource(schema=SCHEMA, directory=Path(__file__).resolve().parents[2])
