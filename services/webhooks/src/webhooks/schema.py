"""The Postgres schema this service owns and where its alembic history lives."""

from __future__ import annotations

from pathlib import Path

from billing_platform.migrations import MigrationSource

SCHEMA = "webhooks"
DEFAULT_PORT = 8003
MIGRATIONS = MigrationSource(schema=SCHEMA, directory=Path(__file__).resolve().parents[2])
# LISTEN/NOTIFY channel: a stored (or re-queued) event wakes the worker at once.
EVENTS_CHANNEL = "webhooks_events"
