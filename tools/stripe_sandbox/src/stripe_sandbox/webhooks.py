"""Asynchronous webhook delivery, signed like Stripe's and retried with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.events import matching_endpoints
from stripe_sandbox.state import State

log = logging.getLogger("stripe_sandbox.webhooks")


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass
class Delivery:
    event_id: str
    endpoint_id: str
    attempt: int = 1


class WebhookDispatcher:
    def __init__(self, state: State, config: SandboxConfig) -> None:
        self._state = state
        self._config = config
        # One queue and worker per endpoint: a slow endpoint never delays another.
        self._queues: dict[str, asyncio.Queue[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None
        self._retries: set[asyncio.Task[None]] = set()
        self._delivered: set[tuple[str, str]] = set()
        self._random = random.Random(config.shuffle_seed)
        self.attempts: list[dict[str, Any]] = []
        self._in_flight = 0
        # Off (``/_sandbox/webhooks/deliveries``): events are recorded and never sent, as
        # to an endpoint that was down longer than Stripe retries; ``/v1/events`` lists them.
        self.enabled = True

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self._config.webhook_timeout)
        for endpoint_id in list(self._queues):
            self._ensure_worker(endpoint_id)

    async def stop(self) -> None:
        tasks = [*self._workers.values(), *self._retries]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()

    def notify(self) -> None:
        """Queue deliveries for the events emitted since the last call (never blocks)."""
        event_ids, self._state.new_events[:] = list(self._state.new_events), []
        if not self.enabled:
            return
        for event_id in event_ids:
            evt = self._state.get("event", event_id)
            if evt is None:
                continue
            for endpoint in matching_endpoints(self._state, evt["type"]):
                queue = self._queues.setdefault(endpoint["id"], asyncio.Queue())
                for _ in range(max(1, self._config.duplicate_deliveries)):
                    queue.put_nowait(Delivery(event_id, endpoint["id"]))
                self._ensure_worker(endpoint["id"])

    def _ensure_worker(self, endpoint_id: str) -> None:
        if self._client is None or endpoint_id in self._workers:
            return
        self._workers[endpoint_id] = asyncio.create_task(
            self._run(self._queues[endpoint_id]), name=f"stripe-sandbox-webhooks-{endpoint_id}"
        )

    def forget(self) -> None:
        """Drop the delivery log and queued deliveries (``/_sandbox/reset``)."""
        self.attempts.clear()
        self._delivered.clear()
        for queue in self._queues.values():
            while not queue.empty():
                queue.get_nowait()
        for task in self._retries:
            task.cancel()

    def pending(self) -> int:
        queued = sum(queue.qsize() for queue in self._queues.values())
        return queued + len(self._retries) + self._in_flight

    async def _run(self, queue: asyncio.Queue[Delivery]) -> None:
        while True:
            batch = [await queue.get()]
            self._in_flight += 1
            if self._config.shuffle_window > 1:
                deadline = asyncio.get_running_loop().time() + 0.05
                while len(batch) < self._config.shuffle_window:
                    remaining = deadline - asyncio.get_running_loop().time()
                    if remaining <= 0:
                        break
                    try:
                        batch.append(await asyncio.wait_for(queue.get(), remaining))
                        self._in_flight += 1
                    except TimeoutError:
                        break
                self._random.shuffle(batch)
            for delivery in batch:
                try:
                    await self._attempt(delivery)
                except Exception:  # a broken endpoint must not stop delivery to others
                    log.exception("stripe_sandbox.webhooks.delivery_crashed")
                finally:
                    self._in_flight -= 1

    async def _attempt(self, delivery: Delivery) -> None:
        evt = self._state.get("event", delivery.event_id)
        endpoint = self._state.get("_webhook", delivery.endpoint_id)
        if evt is None or endpoint is None or self._client is None:
            return
        payload = json.dumps(evt, indent=2)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": sign(payload, endpoint["secret"]),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        status: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(endpoint["url"], content=payload, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        ok = status is not None and 200 <= status < 300
        self._log(delivery, status, error)
        if ok:
            self._mark_delivered(delivery, evt)
            return
        schedule = self._config.webhook_retry_schedule
        if delivery.attempt <= len(schedule):
            delay = schedule[delivery.attempt - 1]
            task = asyncio.create_task(self._retry_later(delivery, delay))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)

    async def _retry_later(self, delivery: Delivery, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._attempt(Delivery(delivery.event_id, delivery.endpoint_id, delivery.attempt + 1))

    def _mark_delivered(self, delivery: Delivery, evt: dict[str, Any]) -> None:
        key = (delivery.event_id, delivery.endpoint_id)
        if key in self._delivered:
            return
        self._delivered.add(key)
        evt["pending_webhooks"] = max(0, evt["pending_webhooks"] - 1)
        self._state.touch("event", delivery.event_id)

    def _log(self, delivery: Delivery, status: int | None, error: str | None) -> None:
        self.attempts.append(
            {
                "event": delivery.event_id,
                "endpoint": delivery.endpoint_id,
                "attempt": delivery.attempt,
                "status": status,
                "error": error,
                "at": int(time.time()),
            }
        )
        del self.attempts[:-1000]
