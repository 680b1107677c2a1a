"""In-memory state: Stripe objects by kind and id, plus the sandbox's own records.

Kinds starting with ``_`` are internal (cards, idempotency keys, webhook endpoints,
per-subscription bookkeeping) and never served by the API. Every mutation marks the
record dirty so ``store.SqliteStore`` can persist just what changed.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from typing import Any

from stripe_sandbox.config import API_VERSION
from stripe_sandbox.errors import resource_missing
from stripe_sandbox.objects.common import JSON

KIND_LABEL = {
    "customer": "customer",
    "price": "price",
    "product": "product",
    "checkout.session": "checkout.session",
    "billing_portal.session": "billing_portal.session",
    "subscription": "subscription",
    "subscription_item": "subscription_item",
    "subscription_schedule": "subscription_schedule",
    "invoice": "invoice",
    "event": "event",
    "payment_method": "PaymentMethod",
    "setup_intent": "setup_intent",
    "_webhook": "webhook endpoint",
    "test_helpers.test_clock": "test_clock",
    "_cs": "checkout.session",
}


class State:
    def __init__(self, api_version: str = API_VERSION) -> None:
        self.api_version = api_version
        self.objects: dict[str, dict[str, JSON]] = {}
        self.clock_offset = 0
        self.lock = asyncio.Lock()
        self.dirty: set[tuple[str, str]] = set()
        self.removed: set[tuple[str, str]] = set()
        self.reset_requested = False
        # While True, emit() records nothing (the seeded catalogue predates any listener).
        self.muted = False
        # Event ids emitted since the dispatcher last looked.
        self.new_events: list[str] = []
        self.listeners: list[Callable[[], None]] = []

    # -- clock -------------------------------------------------------------
    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def advance_to(self, when: int) -> None:
        self.clock_offset = max(self.clock_offset, when - int(time.time()))
        self.dirty.add(("_meta", "clock"))

    # -- objects -----------------------------------------------------------
    def table(self, kind: str) -> dict[str, JSON]:
        return self.objects.setdefault(kind, {})

    def get(self, kind: str, object_id: str) -> JSON | None:
        return self.table(kind).get(object_id)

    def require(self, kind: str, object_id: str, param: str = "id") -> JSON:
        found = self.get(kind, object_id)
        if found is None:
            raise resource_missing(KIND_LABEL.get(kind, kind), object_id, param)
        return found

    def put(self, kind: str, obj: JSON) -> JSON:
        self.table(kind)[obj["id"]] = obj
        self.dirty.add((kind, obj["id"]))
        self.removed.discard((kind, obj["id"]))
        return obj

    def touch(self, kind: str, object_id: str) -> None:
        self.dirty.add((kind, object_id))

    def remove(self, kind: str, object_id: str) -> None:
        self.table(kind).pop(object_id, None)
        self.removed.add((kind, object_id))
        self.dirty.discard((kind, object_id))

    def all(self, kind: str) -> list[JSON]:
        return list(self.table(kind).values())

    def clear(self) -> None:
        self.objects = {}
        self.clock_offset = 0
        self.dirty.clear()
        self.removed.clear()
        self.new_events.clear()
        self.reset_requested = True

    # -- internal records --------------------------------------------------
    def record(self, kind: str, key: str) -> dict[str, Any]:
        """Get or create an internal record (``kind`` starts with ``_``)."""
        table = self.table(kind)
        if key not in table:
            table[key] = {"id": key}
        self.dirty.add((kind, key))
        return table[key]

    def snapshot(self, obj: JSON) -> JSON:
        return copy.deepcopy(obj)
