"""RabbitMQ itself stopped and started mid-run (``rabbitmqctl stop_app`` / ``start_app``):
webhooks are still accepted, API changes still commit, and every billing event is
published once the broker is back, none twice.

It stops the machine's broker for everyone, so it runs only where nothing else uses it
at the same time: CI (``.ci/run`` sets BILLING_DISRUPTIVE_TESTS=1) or on request."""

import asyncio
import os
import shutil
from collections import Counter

import httpx
import pytest
from billing_cli.testing.product import Product
from billing_platform.testing.waiting import wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.disruptive,
    pytest.mark.skipif(
        os.environ.get("BILLING_DISRUPTIVE_TESTS") != "1",
        reason="stops the shared RabbitMQ: set BILLING_DISRUPTIVE_TESTS=1 (CI does)",
    ),
]


async def _rabbitmqctl(*args: str) -> None:
    ctl = shutil.which("rabbitmqctl")
    assert ctl is not None, "rabbitmqctl is needed to stop and start the broker"
    process = await asyncio.create_subprocess_exec(
        ctl, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()


@pytest.mark.timeout(300)
async def test_broker_stopped_and_started_mid_run(product: Product) -> None:
    before = product.new_tenant()
    await product.subscribe(before, "solo")
    await product.wait_event(before, "subscription.activated")
    await _rabbitmqctl("stop_app")
    try:
        during = product.new_tenant()
        session_id = await product.checkout(during, "team")  # outbox: session_created...
        assert (await product.pay(session_id)).status_code == 303  # webhooks: stored, 200
        canceled = await product.api.delete(
            "/api/billing/subscription", headers=product.auth(before)
        )
        assert canceled.status_code == 200, canceled.text
        await asyncio.sleep(2.0)
        ready = await product.api.get("/readyz")
        assert ready.status_code == 503  # honest about the broker
    finally:
        await _rabbitmqctl("start_app")
        await _rabbitmqctl("await_startup")
    await product.wait_subscription(during, lambda s: s["plan_type"] == "team", timeout=60)
    await product.wait_event(during, "subscription.activated", timeout=60)
    await product.wait_event(before, "subscription.cancel_scheduled", timeout=60)
    await asyncio.sleep(2.0)
    bodies = [b for b in product.events.bodies() if b["tenant_id"] in (before, during)]
    assert Counter(b["id"] for b in bodies).most_common(1)[0][1] == 1  # none twice
    assert await wait_until(lambda: _ready(product), timeout=30)


async def _ready(product: Product) -> bool:
    response: httpx.Response = await product.api.get("/readyz")
    return response.status_code == 200
