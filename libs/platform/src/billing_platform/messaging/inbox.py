"""Inbox: apply each message once, whatever the broker redelivers.

The handler built by ``idempotent_handler`` opens a unit of work, records the
message id in ``<schema>.inbox`` (``ON CONFLICT DO NOTHING``), applies the
message in the same transaction and commits; the bus acks only afterwards.
A redelivery finds the id already there and does nothing. A crash between
commit and ack is therefore harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import asyncpg
import structlog

from billing_platform.messaging.message import IncomingMessage, MessageHandler
from billing_platform.sql_names import schema_name
from billing_platform.uow import TransactionalUnitOfWork

log = structlog.get_logger("billing_platform.inbox")


class _UnitOfWork(TransactionalUnitOfWork, Protocol):
    @property
    def connection(self) -> asyncpg.Connection: ...


U = TypeVar("U", bound=_UnitOfWork)


async def record_in_inbox(
    connection: asyncpg.Connection, schema: str, message: IncomingMessage
) -> bool:
    """True when the message is new (and now recorded); False for a duplicate."""
    inserted = await connection.fetchval(
        f"INSERT INTO {schema_name(schema)}.inbox (message_id, routing_key) VALUES ($1, $2) "  # noqa: S608 (identifiers from sql_names, values are parameters)
        "ON CONFLICT (message_id) DO NOTHING RETURNING true",
        message.message_id,
        message.routing_key,
    )
    return bool(inserted)


class MessageInbox(Protocol):
    """The port of a service's unit of work that applies each message once."""

    async def record(self, message_id: str, routing_key: str) -> bool:
        """True when the message is new (now recorded in this transaction); False for a copy."""
        ...


class PgMessageInbox:
    """``<schema>.inbox`` on the unit of work's connection."""

    def __init__(self, connection: asyncpg.Connection, schema: str) -> None:
        self._conn = connection
        self._schema = schema

    async def record(self, message_id: str, routing_key: str) -> bool:
        message = IncomingMessage(message_id=message_id, routing_key=routing_key, body=b"")
        return await record_in_inbox(self._conn, self._schema, message)


def idempotent_handler(
    uow_factory: Callable[[], U],
    schema: str,
    apply: Callable[[U, IncomingMessage], Awaitable[None]],
) -> MessageHandler:
    """Wrap ``apply(uow, message)`` so it runs at most once per message id."""

    async def handle(message: IncomingMessage) -> None:
        uow = uow_factory()
        async with uow:
            if not await record_in_inbox(uow.connection, schema, message):
                log.info("inbox.duplicate", message_id=message.message_id)
                return
            await apply(uow, message)
            await uow.commit()

    return handle
