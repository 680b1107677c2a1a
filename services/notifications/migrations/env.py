"""Alembic environment of the notifications schema (shared logic in billing_platform)."""

from billing_platform.migrations import run_alembic_env

run_alembic_env("notifications")
