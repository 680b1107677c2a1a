"""Transactional outbox: write events with the business change, publish them later.

``OutboxWriter.add`` inserts into ``<schema>.outbox`` on the unit of work's
connection, so the events commit or roll back with the change that caused
them, and notifies the relay (delivered by Postgres at commit).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import asyncpg
from billing_domain.events import IntegrationEvent

from billing_platform.messaging.outbox_schema import outbox_channel
from billing_platform.sql_names import schema_name


class OutboxWriter:
    """Adds integration events to one schema's outbox inside the caller's transaction."""

    def __init__(self, connection: asyncpg.Connection, schema: str) -> None:
        self._conn = connection
        self._schema = schema_name(schema)

    async def add(self, *events: IntegrationEvent) -> None:
        await self.add_all(events)

    async def add_all(self, events: Iterable[IntegrationEvent]) -> None:
        rows = [
            (str(e.id), e.routing_key, json.dumps(e.to_envelope()), e.tenant_id) for e in events
        ]
        if not rows:
            return
        await self._conn.executemany(
            f"INSERT INTO {self._schema}.outbox (message_id, routing_key, body, tenant_id) "
            "VALUES ($1, $2, $3::text::jsonb, $4) ON CONFLICT (message_id) DO NOTHING",
            rows,
        )
        await self._conn.execute("SELECT pg_notify($1, '')", outbox_channel(self._schema))
