"""The test plugin's list of consumer queues is every service's queue, so the
per-test exchange cleanup deletes what subprocess services declared on it."""

from __future__ import annotations

import importlib

import pytest
from billing_cli.services import SERVICES
from billing_platform.testing.plugin import SERVICE_QUEUES

pytestmark = pytest.mark.unit


def test_the_cleanup_knows_every_consumer_queue() -> None:
    queues = set()
    for service in SERVICES:
        try:
            consumer = importlib.import_module(f"{service}.consumer")
        except ModuleNotFoundError as missing:
            if missing.name != f"{service}.consumer":
                raise
            continue  # a service that consumes nothing
        queue = getattr(consumer, "QUEUE", None)
        if queue is not None:
            queues.add(queue)
    assert queues, "no service consumer found"
    assert set(SERVICE_QUEUES) == queues
