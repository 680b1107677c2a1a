"""Transactional outbox: write events with the business change, publish them later.

``OutboxWriter.add`` inserts into ``<schema>.outbox`` on the unit of work's
connection, so the events commit or roll back with the change that caused
them. Then the relay has to learn there is work:

- when the writer was given a unit of work's ``after_commit`` that carries the
  relay's wake-up (each service's bootstrap builds its units of work with
  ``wake_relay=infra.relay.wake``: this process runs that relay), the relay is
  woken in-process right after the commit, and no NOTIFY is sent: a transaction that notified
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
from typing import Protocol

import asyncpg
from billing_domain.events import IntegrationEvent

from billing_platform.messaging.outbox_schema import outbox_channel
from billing_platform.sql_names import schema_name


class AfterCommit(Protocol):
    """A unit of work's commit hook (``billing_platform.db.CommitHooks``)."""

    @property
    def wake_relay(self) -> Callable[[], None] | None:
        """This process's relay of the schema, woken after the commit; ``None``: NOTIFY."""

    def __call__(self, callback: Callable[[], None], /) -> None:
        """Run ``callback`` once the unit of work has committed."""


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
        wake = None if self._after_commit is None else self._after_commit.wake_relay
        if wake is not None:
            assert self._after_commit is not None
            if not self._wake_registered:  # once per unit of work is enough
                self._wake_registered = True
                self._after_commit(wake)
            return
        # Not deduplicated: a NOTIFY sent inside a savepoint that rolls back is lost.
        await self._conn.execute("SELECT pg_notify($1, '')", outbox_channel(self._schema))
