"""The Postgres schema this service owns and where its alembic history lives."""

from __future__ import annotations

from pathlib import Path

from billing_platform.migrations import MigrationSource

SCHEMA = "notifications"
DEFAULT_PORT = 8004
MIGRATIONS = MigrationSource(schema=SCHEMA, directory=Path(__file__).resolve().parents[2])
