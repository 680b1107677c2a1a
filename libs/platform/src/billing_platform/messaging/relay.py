"""Outbox relay: publish unsent outbox rows with confirms, then mark them sent.

Safe with several relays on one schema: each batch is claimed with
``FOR UPDATE SKIP LOCKED`` inside a transaction that stays open while the
batch is published, so two relays never hold the same row. The claim marks the
rows ``sent_at`` in the same statement (one round trip), but that mark commits
only once the broker has confirmed; a row whose publish failed is unmarked
before the commit. A relay that dies after the confirm but before its commit
leaves the row unsent: it is published again (at-least-once), and consumers
drop the copy through their inbox.

Woken in-process right after a commit of this process added events (see
``billing_platform.messaging.outbox``), by LISTEN/NOTIFY when another process
did, and by polling as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import asyncpg
import structlog

from billing_platform.messaging.message import MessagePublisher, OutgoingMessage
from billing_platform.messaging.outbox import register_local_relay
from billing_platform.messaging.outbox_schema import outbox_channel
from billing_platform.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from billing_platform.sql_names import schema_name
from billing_platform.wakeup import PgWakeup, sleep_or_stop

log = structlog.get_logger("billing_platform.outbox.relay")


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        publisher: MessagePublisher,
        *,
        batch_size: int = 100,
        poll_interval: float = 1.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._pool = pool
        self._schema = schema_name(schema)
        self._publisher = publisher
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._wakeup = PgWakeup(pool, outbox_channel(self._schema))

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows; return how many were confirmed and marked."""
        async with self._pool.acquire() as conn, conn.transaction():
            # Claimed and marked sent in one statement; the mark commits only after
            # the broker confirmed, and the rows of failed publishes are unmarked.
            claimed = await conn.fetch(
                f"UPDATE {self._schema}.outbox SET sent_at = now(), attempts = attempts + 1 "
                f"WHERE id IN (SELECT id FROM {self._schema}.outbox WHERE sent_at IS NULL "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) "
                "RETURNING id, message_id, routing_key, body::text AS body",
                self._batch_size,
            )
            if not claimed:
                return 0
            rows = sorted(claimed, key=lambda row: row["id"])
            results = await asyncio.gather(
                *(
                    self._publisher.publish(
                        OutgoingMessage(
                            message_id=row["message_id"],
                            routing_key=row["routing_key"],
                            body=_compact(row["body"]),
                        )
                    )
                    for row in rows
                ),
                return_exceptions=True,
            )
            failed = [
                (row["id"], repr(result)[:500])
                for row, result in zip(rows, results, strict=True)
                if isinstance(result, BaseException)
            ]
            if failed:
                await conn.executemany(
                    f"UPDATE {self._schema}.outbox SET sent_at = NULL, last_error = $2 "
                    "WHERE id = $1",
                    failed,
                )
        sent = len(rows) - len(failed)
        OUTBOX_PUBLISHED.labels(self._schema).inc(sent)
        if failed:
            OUTBOX_PUBLISH_FAILURES.labels(self._schema).inc(len(failed))
            log.warning(
                "outbox.publish.failed", schema=self._schema, failed=len(failed), error=failed[0][1]
            )
            raise RelayPublishError(f"{len(failed)} outbox messages not confirmed")
        return sent

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Relay until cancelled (or ``stop`` is set), backing off while the broker is down."""
        stop = stop or asyncio.Event()
        listener = asyncio.create_task(
            self._wakeup.listen(stop), name=f"outbox-listen-{self._schema}"
        )
        unregister = register_local_relay(self._schema, self._wakeup.poke)
        backoff = 0.0
        try:
            while not stop.is_set():
                try:
                    published = await self.publish_pending()
                    backoff = 0.0
                except Exception as exc:
                    backoff = min(max(backoff * 2, 0.1), self._max_backoff)
                    if not isinstance(exc, RelayPublishError):
                        log.warning("outbox.relay.error", schema=self._schema, error=repr(exc))
                    await sleep_or_stop(stop, backoff)
                    continue
                if published >= self._batch_size:
                    continue
                await self._wakeup.wait(stop, self._poll_interval)
        finally:
            unregister()
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener


class RelayPublishError(RuntimeError):
    """Some messages of a batch were not confirmed; they stay unsent."""


def _compact(body_text: str) -> bytes:
    return json.dumps(json.loads(body_text), separators=(",", ":")).encode()
