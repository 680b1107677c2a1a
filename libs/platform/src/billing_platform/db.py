"""Postgres access: the asyncpg pool and the unit of work.

A use case gets a unit of work, does its reads and writes on
``uow.connection`` inside one transaction, and only ``await uow.commit()``
makes them durable; leaving the block without committing rolls back.
``uow.after_commit(callback)`` runs ``callback`` once the commit has succeeded;
``uow.after_commit.wake_relay`` is the wake-up of this service's outbox relay,
handed to the unit of work by the service's bootstrap (``wake_relay=relay.wake``),
so the outbox wakes the relay in-process after the commit instead of a NOTIFY.

Pools skip asyncpg's reset query on release (``RESET ALL; UNLISTEN *; CLOSE
ALL; pg_advisory_unlock_all()``), one more round trip per transaction: nothing
here keeps session state past a release. Transactions are scoped (asyncpg still
rolls back one left open), locks are transaction-level, nothing is ``SET`` on a
session, and ``PgWakeup`` unlistens (or drops its connection) before releasing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    for json_type in ("json", "jsonb"):
        await conn.set_type_codec(
            json_type, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def keep_session(conn: asyncpg.Connection) -> None:
    """Release without a reset query: see the module docstring."""


async def create_pool(
    database_url: str, *, min_size: int = 1, max_size: int = 10, command_timeout: float = 10.0
) -> asyncpg.Pool:
    """A pool whose connections encode and decode json/jsonb as Python objects."""
    return await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        init=_init_connection,
        reset=keep_session,
    )


class CommitHooks:
    """``uow.after_commit``: callbacks run once the unit of work has committed."""

    def __init__(self, wake_relay: Callable[[], None] | None) -> None:
        self.wake_relay = wake_relay
        """Wakes this process's outbox relay of the unit's schema; ``None``: none runs here."""
        self._callbacks: list[Callable[[], None]] = []

    def __call__(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after a successful ``commit`` (never after a rollback)."""
        self._callbacks.append(callback)

    def run(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def clear(self) -> None:
        self._callbacks = []


class PgUnitOfWork:
    """One transaction on one pooled connection; services subclass it to add repositories."""

    def __init__(self, pool: asyncpg.Pool, *, wake_relay: Callable[[], None] | None = None) -> None:
        self._pool = pool
        self._conn: Any = None
        self._tx: Any = None
        self.after_commit = CommitHooks(wake_relay)
        self.committed = False

    @property
    def connection(self) -> asyncpg.Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._conn  # type: ignore[no-any-return]

    async def __aenter__(self) -> Self:
        self._conn = await self._pool.acquire()
        try:
            self._tx = self._conn.transaction()
            await self._tx.start()
        except BaseException:
            await self._pool.release(self._conn)
            self._conn = None
            raise
        self.committed = False
        self.after_commit.clear()
        self._on_enter()
        return self

    def _on_enter(self) -> None:
        """Hook for subclasses: build repositories on ``self.connection``."""

    async def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("nothing to commit")
        await self._tx.commit()
        self._tx = None
        self.committed = True
        self.after_commit.run()

    async def rollback(self) -> None:
        if self._tx is not None:
            tx, self._tx = self._tx, None
            await tx.rollback()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.rollback()
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            # The connection died under us: the server rolled back already.
            # Surface the original error, if any, rather than this one.
            if exc is None:
                raise
        finally:
            self.after_commit.clear()
            conn, self._conn = self._conn, None
            if conn is not None:
                await self._pool.release(conn)


async def ping(pool: asyncpg.Pool, timeout: float = 2.0) -> None:
    """Raise when the database cannot answer a trivial query in time."""
    async with pool.acquire(timeout=timeout) as conn:
        await conn.fetchval("SELECT 1", timeout=timeout)
