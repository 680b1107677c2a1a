"""Transient or permanent: the one classification of processing failures.

A **transient** failure says nothing about the work itself: the database, Stripe
or the broker was unreachable, slow or busy, and the same work will succeed once
it is back. Consumers retry it with backoff for as long as the outage lasts
(``messaging.rabbitmq``: a delay queue, not counted against the delivery limit).
A **permanent** failure is about the work (a payload that cannot be applied, a
bug): retrying it changes nothing, so it ends in a dead-letter queue or ``failed``.

Transient:
- an exception whose ``retryable`` attribute is true (``GatewayUnavailable``:
  Stripe or the broker down, rate limited or timing out);
- ``RateLimited`` (over a tenant's Stripe budget: wait and retry);
- the database unavailable (``DATABASE_UNAVAILABLE``: connection refused, lost or
  closed, the server starting or shutting down, too many connections);
- the database busy: a lock or statement timeout (``LockNotAvailableError``,
  ``QueryCanceledError``), a serialization failure or a deadlock;
- ``OSError`` (``ConnectionError``, DNS failures included) and ``TimeoutError``
  (``asyncio.TimeoutError`` is the same class), except the file-system ones
  (``FILE_SYSTEM``: a missing file or a permission refused is a deployment bug that
  waiting does not fix).

Everything else is permanent.
"""

from __future__ import annotations

import asyncpg
from billing_domain.errors import RateLimited

# Postgres unreachable, restarting, or the connection killed under a request.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # connection lost or refused (SQLSTATE class 08)
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now (57)
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # the client's connection is closed or unusable
    asyncpg.exceptions.InternalClientError,  # protocol state broken by a killed connection
    ConnectionError,
    OSError,
    TimeoutError,
)

# Postgres reachable but busy: the same transaction succeeds when tried again.
DATABASE_BUSY: tuple[type[Exception], ...] = (
    asyncpg.exceptions.LockNotAvailableError,  # lock_timeout (55P03)
    asyncpg.exceptions.QueryCanceledError,  # statement_timeout (57014)
    asyncpg.exceptions.SerializationError,  # 40001
    asyncpg.exceptions.DeadlockDetectedError,  # 40P01
)

TRANSIENT: tuple[type[Exception], ...] = (
    *DATABASE_UNAVAILABLE,
    *DATABASE_BUSY,
    RateLimited,
)


FILE_SYSTEM: tuple[type[Exception], ...] = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is an outage or contention that retrying later overcomes."""
    if getattr(exc, "retryable", False) is True:
        return True
    return isinstance(exc, TRANSIENT) and not isinstance(exc, FILE_SYSTEM)


def failure_class(exc: BaseException) -> str:
    """``"transient"`` or ``"permanent"``: the label logs and metrics carry."""
    return "transient" if is_transient(exc) else "permanent"
