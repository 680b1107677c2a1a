"""DDL of the outbox and inbox tables, for each service's first migration."""

from __future__ import annotations

from billing_platform.sql_names import schema_name


def outbox_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel that wakes the relay of ``schema``."""
    return f"{schema_name(schema)}_outbox"


def create_outbox_and_inbox_sql(schema: str) -> list[str]:
    s = schema_name(schema)
    return [
        f"""
        CREATE TABLE {s}.outbox (
            id           bigserial PRIMARY KEY,
            message_id   text NOT NULL UNIQUE,
            routing_key  text NOT NULL,
            body         jsonb NOT NULL,
            tenant_id    text,
            created_at   timestamptz NOT NULL DEFAULT now(),
            sent_at      timestamptz,
            attempts     integer NOT NULL DEFAULT 0,
            last_error   text
        )""",
        f"CREATE INDEX outbox_unsent_idx ON {s}.outbox (id) WHERE sent_at IS NULL",
        f"""
        CREATE TABLE {s}.inbox (
            message_id   text PRIMARY KEY,
            routing_key  text NOT NULL,
            received_at  timestamptz NOT NULL DEFAULT now()
        )""",
    ]


def drop_outbox_and_inbox_sql(schema: str) -> list[str]:
    s = schema_name(schema)
    return [f"DROP TABLE IF EXISTS {s}.inbox", f"DROP TABLE IF EXISTS {s}.outbox"]
