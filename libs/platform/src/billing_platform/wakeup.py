"""Waking a worker when Postgres says there is work: LISTEN/NOTIFY, polling as fallback.

A writer runs ``SELECT pg_notify(channel, '')`` in its transaction (Postgres
delivers it at commit); ``PgWakeup.listen`` holds one pooled connection that
LISTENs and sets ``event``, reconnecting when the connection is lost. The
worker waits with ``wait(stop, timeout)``: woken at once by a notification,
by ``poke()`` (a writer in this process, after its commit) or ``stop``, or after
``timeout`` anyway, so a lost notification costs at most one poll interval.
``take_notified()`` tells a notification (another process wrote, perhaps
something not due yet) from a poke. A writer that pokes this waiter and also
notifies other processes sends ``token`` as the payload: Postgres delivers a
NOTIFY to every listener, the sender's own included, and this one has been
poked already.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import structlog

log = structlog.get_logger("billing_platform.wakeup")


class PgWakeup:
    def __init__(self, pool: asyncpg.Pool, channel: str, *, reconnect_delay: float = 1.0) -> None:
        self._pool = pool
        self._channel = channel
        self._reconnect_delay = reconnect_delay
        self.event = asyncio.Event()
        self.token = uuid.uuid4().hex
        self._notified_since = True  # nothing is known before the first look

    def poke(self) -> None:
        """Wake the waiter from this process (work it can see is committed)."""
        self.event.set()

    def take_notified(self) -> bool:
        """Whether a notification (or a reconnect) came since the last call."""
        notified, self._notified_since = self._notified_since, False
        return notified

    def _notified(self, *args: object) -> None:
        if len(args) == 4 and args[3] == self.token:
            return  # (connection, pid, channel, payload): our own, already poked
        self._notified_since = True
        self.event.set()

    async def listen(self, stop: asyncio.Event) -> None:
        """Hold a LISTEN connection until ``stop``; reconnect on loss."""
        while not stop.is_set():
            try:
                async with self._pool.acquire() as conn:
                    lost = asyncio.Event()
                    conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                    await conn.add_listener(self._channel, self._notified)
                    try:
                        self._notified()  # catch up on anything written meanwhile
                        await first_of(stop, lost)
                    finally:
                        try:
                            await conn.remove_listener(self._channel, self._notified)
                        except Exception:
                            # Pools release without a reset query: never hand a
                            # connection that may still LISTEN to someone else.
                            conn.terminate()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("wakeup.listen.lost", channel=self._channel, error=repr(exc))
                await sleep_or_stop(stop, self._reconnect_delay)

    async def wait(self, stop: asyncio.Event, timeout: float) -> None:
        """Return on a notification, on ``stop``, or after ``timeout``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first_of(self.event, stop), timeout)
        self.event.clear()


async def first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
