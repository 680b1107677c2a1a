"""The processing worker: drains due events, sleeps until the next is due or one arrives.

Several workers (tasks here, replicas elsewhere) are safe: each event is
claimed with ``FOR UPDATE SKIP LOCKED``. A new event wakes the worker through
LISTEN/NOTIFY at once (or in-process by ingest); due events are handled up to
``batch_size`` per transaction (each in its own savepoint); a retry is picked
up when its ``next_attempt_at`` comes; polling every ``poll_interval`` covers a
lost notification.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
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
        try:
            while not stop.is_set():
                try:
                    await asyncio.gather(*(self._drain(stop) for _ in range(self._concurrency)))
                    timeout = await self._until_next_due()
                except Exception as exc:
                    log.warning("webhooks.worker.error", error=repr(exc))
                    await sleep_or_stop(stop, self._poll_interval)
                    continue
                await self._wakeup.wait(stop, timeout)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _drain(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batch = await process_due(self._deps, limit=self._batch_size)
            if not batch:
                return
            for processed in batch:
                _count(processed)

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
            await sleep_or_stop(stop, self._gauge_interval)


def _count(processed: Processed) -> None:
    label = metrics.type_label(processed.event_type)
    metrics.PROCESSED.labels(label, processed.status.value).inc()
    if processed.error is not None:
        metrics.ATTEMPT_FAILURES.labels(label).inc()
