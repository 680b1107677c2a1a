"""The transactional half of every service's unit-of-work port.

A service's ``ports.UnitOfWork`` extends this Protocol with its repositories
(as read-only properties); ``billing_platform.db.PgUnitOfWork`` and the tests'
fakes implement it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self


class TransactionalUnitOfWork(Protocol):
    async def commit(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
