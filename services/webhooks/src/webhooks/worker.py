"""The processing worker: drains due events, sleeps until the next is due or one arrives.

Several workers (tasks here, replicas elsewhere) are safe: each batch is
leased (``WEBHOOK_LEASE_SECONDS``) in one committed statement and finished only
while the lease is still this worker's; a dead or frozen worker's rows are due
again when its lease runs out (``use_cases.processing``). A new event wakes the
worker through LISTEN/NOTIFY at once (or in-process by ingest); due events are
handled up to ``batch_size`` per finishing transaction (each in its own savepoint
when there are several); a retry is picked up when its ``next_attempt_at``
comes; polling every ``poll_interval`` covers a lost notification.

What a wake-up costs is kept to the work it brings: one task claims a batch,
and only a full batch (a backlog) puts ``concurrency`` tasks on it; a batch
smaller than asked for means nothing else is due, so no empty claim follows.
When the next retry is due is asked of Postgres only when that can have
changed: a notification (another process scheduled a retry or replayed),
a retry scheduled here, or the last answer running out; a poke from ingest
brings an event due now, which the drain takes anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from billing_domain.webhook_log import WebhookEventStatus
from billing_platform.wakeup import PgWakeup, sleep_or_stop

from webhooks import metrics
from webhooks.ports import EventLogMonitor
from webhooks.use_cases.processing import Processed, ProcessingDeps, process_due

log = structlog.get_logger("webhooks.worker")


class EventWorker:
    def __init__(
        self,
        wakeup: PgWakeup,
        monitor: EventLogMonitor,
        deps: ProcessingDeps,
        *,
        concurrency: int = 2,
        batch_size: int = 10,
        poll_interval: float = 1.0,
        gauge_interval: float = 5.0,
    ) -> None:
        self._monitor = monitor
        self._deps = deps
        self._concurrency = concurrency
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._gauge_interval = gauge_interval
        self._wakeup = wakeup

    async def run(self, stop: asyncio.Event) -> None:
        tasks = [
            asyncio.create_task(self._wakeup.listen(stop), name="webhooks-listen"),
            asyncio.create_task(self._gauges(stop), name="webhooks-gauges"),
        ]
        deadline = 0.0  # monotonic: when to look again without being woken
        try:
            while not stop.is_set():
                try:
                    retry_scheduled = await self._drain(stop)
                    notified = self._wakeup.take_notified()
                    if retry_scheduled or notified or time.monotonic() >= deadline:
                        deadline = time.monotonic() + await self._until_next_due()
                except Exception as exc:
                    log.warning("webhooks.worker.error", error=repr(exc))
                    await sleep_or_stop(stop, self._poll_interval)
                    continue
                await self._wakeup.wait(stop, max(deadline - time.monotonic(), 0.0))
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _drain(self, stop: asyncio.Event) -> bool:
        """Handle what is due; True when an event was scheduled for a retry."""
        batch = await self._batch()
        if len(batch) < self._batch_size:
            return _any_retry(batch)
        backlog = await asyncio.gather(*(self._work_off(stop) for _ in range(self._concurrency)))
        return _any_retry(batch) or any(backlog)

    async def _work_off(self, stop: asyncio.Event) -> bool:
        retry = False
        while not stop.is_set():
            batch = await self._batch()
            retry = retry or _any_retry(batch)
            if len(batch) < self._batch_size:
                break
        return retry

    async def _batch(self) -> list[Processed]:
        batch = await process_due(self._deps, limit=self._batch_size)
        for processed in batch:
            _count(processed)
        return batch

    async def _until_next_due(self) -> float:
        next_due = await self._monitor.next_due_at()
        if next_due is None:
            return self._poll_interval
        wait = (next_due - self._deps.clock.now()).total_seconds()
        return min(max(wait, 0.01), self._poll_interval)

    async def _gauges(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):
                waiting, oldest, unsent = await self._monitor.backlog()
                metrics.BACKLOG.set(waiting)
                metrics.OLDEST_WAITING_AGE.set(oldest)
                metrics.OUTBOX_BACKLOG.set(unsent)
                counts = await self._monitor.count_by_status()
                for status in WebhookEventStatus:
                    if status is not WebhookEventStatus.PROCESSED:
                        metrics.EVENTS.labels(status.value).set(counts.get(status.value, 0))
            await sleep_or_stop(stop, self._gauge_interval)


def _any_retry(batch: list[Processed]) -> bool:
    return any(processed.status is WebhookEventStatus.RETRYING for processed in batch)


def _count(processed: Processed) -> None:
    label = metrics.type_label(processed.event_type)
    metrics.PROCESSED.labels(label, processed.status.value).inc()
    if processed.error is not None:
        metrics.ATTEMPT_FAILURES.labels(label).inc()
