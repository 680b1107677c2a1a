"""Transactional outbox: write events with the business change, publish them later.

``OutboxWriter.add`` inserts into ``<schema>.outbox`` on the unit of work's
connection, so the events commit or roll back with the change that caused
them. Then the relay has to learn there is work:

- when this process runs the schema's relay (every service does) and the writer
  was given the unit of work's ``after_commit``, the relay is woken in-process
  right after the commit, and no NOTIFY is sent: a transaction that notified
  holds Postgres's cluster-wide notify lock from its commit until its WAL flush,
  so a NOTIFY per business transaction serialized all of them behind each other
  (bench/webhook_to_projection.py);
- otherwise (a CLI command, a test on a bare connection) it sends
  ``pg_notify`` on the schema's channel, delivered at commit to every relay.

Either way the relays also poll, so a lost wake-up costs one poll interval.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import asyncpg
from billing_domain.events import IntegrationEvent

from billing_platform.messaging.outbox_schema import outbox_channel
from billing_platform.sql_names import schema_name

AfterCommit = Callable[[Callable[[], None]], None]
"""Registers a callback that runs once the unit of work has committed."""

_local_relays: dict[str, list[Callable[[], None]]] = {}


def register_local_relay(schema: str, wake: Callable[[], None]) -> Callable[[], None]:
    """Make ``wake`` the in-process wake-up of a relay on ``schema``; returns the undo."""
    name = schema_name(schema)
    _local_relays.setdefault(name, []).append(wake)

    def unregister() -> None:
        wakes = _local_relays.get(name, [])
        if wake in wakes:
            wakes.remove(wake)
        if not wakes:
            _local_relays.pop(name, None)

    return unregister


def _wake_local_relays(schema: str) -> None:
    for wake in list(_local_relays.get(schema, ())):
        wake()


class OutboxWriter:
    """Adds integration events to one schema's outbox inside the caller's transaction."""

    def __init__(
        self,
        connection: asyncpg.Connection,
        schema: str,
        *,
        after_commit: AfterCommit | None = None,
    ) -> None:
        self._conn = connection
        self._schema = schema_name(schema)
        self._after_commit = after_commit
        self._wake_registered = False

    async def add(self, *events: IntegrationEvent) -> None:
        await self.add_all(events)

    async def add_all(self, events: Iterable[IntegrationEvent]) -> None:
        listed = list(events)
        if not listed:
            return
        # One statement for the lot (executemany costs a protocol round per row).
        await self._conn.execute(
            f"INSERT INTO {self._schema}.outbox (message_id, routing_key, body, tenant_id) "  # noqa: S608 (identifiers from sql_names, values are parameters)
            "SELECT m, k, b::jsonb, t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
            "WITH ORDINALITY AS rows(m, k, b, t, n) ORDER BY n "  # ids follow the events' order
            "ON CONFLICT (message_id) DO NOTHING",
            [str(e.id) for e in listed],
            [e.routing_key for e in listed],
            [json.dumps(e.to_envelope()) for e in listed],
            [e.tenant_id for e in listed],
        )
        await self._signal_relay()

    async def _signal_relay(self) -> None:
        if self._after_commit is not None and self._schema in _local_relays:
            if not self._wake_registered:  # once per unit of work is enough
                self._wake_registered = True
                schema = self._schema
                self._after_commit(lambda: _wake_local_relays(schema))
            return
        # Not deduplicated: a NOTIFY sent inside a savepoint that rolls back is lost.
        await self._conn.execute("SELECT pg_notify($1, '')", outbox_channel(self._schema))
