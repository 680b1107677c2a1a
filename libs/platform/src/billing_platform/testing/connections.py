"""Typing help for tests that write through a pooled connection."""

from __future__ import annotations

from typing import cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy


def pooled(conn: PoolConnectionProxy[asyncpg.Record]) -> asyncpg.Connection:
    """``pool.acquire()``'s proxy as the ``asyncpg.Connection`` whose every method it forwards
    (the stubs keep the two types apart; the platform's writers take a connection)."""
    return cast(asyncpg.Connection, conn)
