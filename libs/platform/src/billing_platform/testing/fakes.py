"""The base of every service's fake unit of work: staged writes, commit and rollback.

A service's fake (``<service>.testing.Fake<Service>UnitOfWork``) says what one
transaction stages (``_new_stage``) and how a commit makes it durable
(``_apply``); this base gives the transaction's semantics, the same as
``billing_platform.db.PgUnitOfWork``:

- writes made inside the block are staged, invisible to other units of work;
- ``commit()`` applies them, then runs the ``after_commit`` callbacks;
- ``rollback()``, or leaving the block without committing (an exception
  included), discards them and the callbacks;
- row locks taken with ``hold`` are released when the block ends.

``FakeMessageInbox`` is the inbox port of such a fake (``MessageInbox``).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar

from billing_platform.db import CommitHooks

Stage = TypeVar("Stage")


class FakeUnitOfWork(ABC, Generic[Stage]):
    def __init__(self) -> None:
        self.staged: Stage = self._new_stage()
        self.committed = False
        self.commits = 0
        self.after_commit = CommitHooks(wake_relay=None)
        self._held: list[asyncio.Lock] = []

    @abstractmethod
    def _new_stage(self) -> Stage:
        """An empty set of staged writes."""

    @abstractmethod
    def _apply(self, staged: Stage) -> None:
        """Make ``staged`` durable (the fake's "database" sees it from now on)."""

    async def __aenter__(self) -> Self:
        self.staged = self._new_stage()
        self.committed = False
        self.after_commit.clear()
        return self

    async def commit(self) -> None:
        staged, self.staged = self.staged, self._new_stage()
        self._apply(staged)
        self.committed = True
        self.commits += 1
        self.after_commit.run()

    async def rollback(self) -> None:
        self.staged = self._new_stage()
        self.after_commit.clear()

    async def hold(self, lock: asyncio.Lock) -> None:
        """Take ``lock`` until the block ends (a row lock: ``SELECT ... FOR UPDATE``)."""
        await lock.acquire()
        self._held.append(lock)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.rollback()
        finally:
            held, self._held = self._held, []
            for lock in held:
                lock.release()


class FakeMessageInbox:
    """The inbox of a fake unit of work: ids recorded in the open transaction are staged
    (``staged()``, the unit's stage) and join ``committed`` only with its commit."""

    def __init__(self, committed: set[str], staged: Callable[[], set[str]]) -> None:
        self._committed = committed
        self._staged = staged

    async def record(self, message_id: str, routing_key: str) -> bool:
        staged = self._staged()
        if message_id in self._committed or message_id in staged:
            return False
        staged.add(message_id)
        return True
