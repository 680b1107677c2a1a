"""The sender loop: off the consumer's path, like the outbox relay. It sends due mails
one after another, sleeps until woken (a mail was queued) or its poll interval passes,
and runs the card-expiring sweep once a day."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from notifications.use_cases.sending import SenderDeps, SendOutcome, send_next_due
from notifications.use_cases.sweep import sweep_expiring_cards

log = structlog.get_logger("notifications.sender")

POLL_S = 2.0
SWEEP_EVERY_S = 24 * 3600.0


class MailSender:
    def __init__(
        self, deps: SenderDeps, *, poll_s: float = POLL_S, sweep_every_s: float = SWEEP_EVERY_S
    ) -> None:
        self.deps = deps
        self._poll_s = poll_s
        self._sweep_every_s = sweep_every_s
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> list[SendOutcome]:
        """Send every mail due now (tests and ``billing dev``)."""
        done = []
        while (outcome := await send_next_due(self.deps)) is not None:
            done.append(outcome)
        return done

    async def run(self, stop: asyncio.Event) -> None:
        sweeper = asyncio.create_task(self._sweep_daily(stop), name="notifications-card-sweep")
        try:
            while not stop.is_set():
                try:
                    outcome = await send_next_due(self.deps)
                except Exception:  # a database outage: try again after a pause
                    log.exception("notifications.sender.error")
                    outcome = None
                if outcome is None:
                    await self._sleep(stop, self._poll_s)
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    async def _sweep_daily(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                queued = await sweep_expiring_cards(self.deps.uow_factory, self.deps.clock)
                if queued:
                    log.info("notifications.card_sweep.queued", count=queued)
                    self.wake()
            except Exception:
                log.exception("notifications.card_sweep.error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._sweep_every_s)

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            self._wake.clear()
