"""Outbox relay: publish unsent outbox rows with confirms, then mark them sent.

Safe with several relays on one schema: each batch is claimed with
``FOR UPDATE SKIP LOCKED`` inside a transaction that stays open while the
batch is published, so two relays never hold the same row. The claim marks the
rows ``sent_at`` in the same statement (one round trip), but that mark commits
only once the broker has confirmed; a row whose publish failed is unmarked
before the commit. A relay that dies after the confirm but before its commit
leaves the row unsent: it is published again (at-least-once), and consumers
drop the copy through their inbox.

Woken in-process right after a commit of this process added events (``wake``,
handed to the service's units of work by its bootstrap: see
``billing_platform.messaging.outbox``), by LISTEN/NOTIFY when another process
did, and by polling as a fallback.

Poison rows: a message the broker refuses while it confirms others of the same batch
(so the broker is up: the message is the problem) counts a ``rejection`` and waits
``2^rejections`` s (at most ``MAX_ROW_BACKOFF_S``) before it is tried again, so the
rows behind it flow; after ``MAX_REJECTIONS`` it is parked (``parked_at`` set, never
claimed again, ``billing_outbox_parked_total`` counted, ``outbox.message.parked``
logged) for an operator (deploy/README.md, "Poison outbox rows"). A batch in which
nothing is confirmed (the broker is down) counts nothing against its rows: the relay
backs off as a whole and nothing is parked, however long the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import asyncpg
import structlog
from prometheus_client import Counter

from billing_platform.messaging.message import MessagePublisher, OutgoingMessage
from billing_platform.messaging.outbox_schema import outbox_channel
from billing_platform.metrics import OUTBOX_PUBLISH_FAILURES, OUTBOX_PUBLISHED
from billing_platform.sql_names import schema_name
from billing_platform.wakeup import PgWakeup, sleep_or_stop

log = structlog.get_logger("billing_platform.outbox.relay")

MAX_REJECTIONS = 8
"""Refusals of one row (while the broker confirmed others) before it is parked."""
MAX_ROW_BACKOFF_S = 300
# Here rather than in billing_platform.metrics: only the relay counts it.
OUTBOX_PARKED = Counter(
    "billing_outbox_parked_total",
    "Outbox messages parked after the broker refused them too often (an operator's).",
    ["schema"],
)


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
        max_rejections: int = MAX_REJECTIONS,
    ) -> None:
        self._pool = pool
        self._schema = schema_name(schema)
        self._publisher = publisher
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._max_rejections = max_rejections
        self._wakeup = PgWakeup(pool, outbox_channel(self._schema))

    def wake(self) -> None:
        """Look for unsent rows now (a commit of this process added some)."""
        self._wakeup.poke()

    async def publish_pending(self) -> int:
        """Publish one batch of unsent rows; return how many were confirmed and marked."""
        async with self._pool.acquire() as conn, conn.transaction():
            # Claimed and marked sent in one statement; the mark commits only after
            # the broker confirmed, and the rows of failed publishes are unmarked.
            claimed = await conn.fetch(
                f"UPDATE {self._schema}.outbox SET sent_at = now(), attempts = attempts + 1 "  # noqa: S608 (identifiers from sql_names, values are parameters)
                f"WHERE id IN (SELECT id FROM {self._schema}.outbox WHERE sent_at IS NULL "
                "AND parked_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now()) "
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
            sent = len(rows) - len(failed)
            parked: list[str] = []
            if failed and sent:  # the broker is up and refused these: count it against them
                parked = await self._reject(conn, failed)
            elif failed:  # nothing confirmed: the broker, not the rows
                await conn.executemany(
                    f"UPDATE {self._schema}.outbox SET sent_at = NULL, last_error = $2 "  # noqa: S608 (identifiers from sql_names, values are parameters)
                    "WHERE id = $1",
                    failed,
                )
        OUTBOX_PUBLISHED.labels(self._schema).inc(sent)
        if failed:
            OUTBOX_PUBLISH_FAILURES.labels(self._schema).inc(len(failed))
            log.warning(
                "outbox.publish.failed", schema=self._schema, failed=len(failed), error=failed[0][1]
            )
        for message_id in parked:
            OUTBOX_PARKED.labels(self._schema).inc()
            log.error("outbox.message.parked", schema=self._schema, message_id=message_id)
        if failed and not sent:
            raise RelayPublishError(f"{len(failed)} outbox messages not confirmed")
        return sent

    async def _reject(
        self, conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record], failed: list[tuple[int, str]]
    ) -> list[str]:
        """Unmark refused rows, each waiting its own backoff; park those refused too often."""
        rows = await conn.fetch(
            f"UPDATE {self._schema}.outbox SET sent_at = NULL, last_error = f.error, "  # noqa: S608 (identifiers from sql_names, values are parameters)
            "rejections = rejections + 1, "
            "next_attempt_at = now() + make_interval(secs => least(power(2, rejections + 1), $3)), "
            "parked_at = CASE WHEN rejections + 1 >= $4 THEN now() END "
            "FROM unnest($1::bigint[], $2::text[]) AS f(id, error) "
            f"WHERE {self._schema}.outbox.id = f.id "
            "RETURNING message_id, parked_at IS NOT NULL AS parked",
            [row_id for row_id, _ in failed],
            [error for _, error in failed],
            MAX_ROW_BACKOFF_S,
            self._max_rejections,
        )
        return [row["message_id"] for row in rows if row["parked"]]

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Relay until cancelled (or ``stop`` is set), backing off while the broker is down."""
        stop = stop or asyncio.Event()
        listener = asyncio.create_task(
            self._wakeup.listen(stop), name=f"outbox-listen-{self._schema}"
        )
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
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener


class RelayPublishError(RuntimeError):
    """Some messages of a batch were not confirmed; they stay unsent."""


def _compact(body_text: str) -> bytes:
    return json.dumps(json.loads(body_text), separators=(",", ":")).encode()
