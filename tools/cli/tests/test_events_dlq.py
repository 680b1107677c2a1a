"""``billing events dlq list|replay`` as a process against the real RabbitMQ: a consumer
that cannot apply a message (a permanent error) dead-letters it, ``list`` shows it,
``replay`` after the fix republishes it with its message id and the consumer gets it."""

import asyncio
import json
import os
import subprocess
import uuid

import pytest
from billing_platform.messaging.message import IncomingMessage, OutgoingMessage, PoisonMessage
from billing_platform.messaging.rabbitmq import RabbitMQBus
from billing_platform.testing.processes import billing_command
from billing_platform.testing.waiting import wait_until

pytestmark = pytest.mark.integration

KEY = "billing.invoice.paid"


class Projection:
    def __init__(self) -> None:
        self.broken = True
        self.applied: list[str] = []

    async def handle(self, message: IncomingMessage) -> None:
        if self.broken:
            raise PoisonMessage("unknown plan (the bug)")
        self.applied.append(message.message_id)


async def _billing(amqp_url: str, exchange: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AMQP_URL": amqp_url, "BILLING_EXCHANGE": exchange}
    return await asyncio.to_thread(
        subprocess.run,
        billing_command("events", "dlq", *args),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_a_poison_message_is_listed_then_replayed_after_the_fix(
    amqp_url: str, exchange_name: str, rabbit_bus: RabbitMQBus
) -> None:
    queue = f"{exchange_name}.invoices"
    projection = Projection()
    await rabbit_bus.subscribe(queue, ["billing.invoice.#"], projection.handle)
    message_id = str(uuid.uuid4())
    envelope = {"id": message_id, "type": "invoice.paid", "tenant_id": "tenant_q",
                "source": "webhooks", "data": {}}  # fmt: skip
    await rabbit_bus.publish(
        OutgoingMessage(message_id=message_id, routing_key=KEY, body=json.dumps(envelope).encode())
    )

    async def dead() -> bool:
        listed = await _billing(amqp_url, exchange_name, "list", "--queue", queue, "--json")
        return listed.returncode == 0 and message_id in listed.stdout

    assert await wait_until(dead, timeout=15)
    listed = await _billing(amqp_url, exchange_name, "list", "--queue", queue, "--json")
    [line] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {k: line[k] for k in ("message_id", "type", "tenant_id", "source", "reason")} == {
        "message_id": message_id,
        "type": "invoice.paid",
        "tenant_id": "tenant_q",
        "source": "webhooks",
        "reason": "rejected",
    }
    assert line["death_count"] == 1
    assert line["first_death_at"]
    assert "1 dead letter(s)" in listed.stderr
    readable = await _billing(amqp_url, exchange_name, "list", "--queue", f"{queue}.dlq")
    assert f"{message_id}  invoice.paid  tenant=tenant_q source=webhooks reason=rejected" in (
        readable.stdout
    )

    nowhere = await _billing(amqp_url, f"{exchange_name}.gone", "replay", "--queue", queue, "--all")
    assert nowhere.returncode == 1
    assert "not on the broker" in nowhere.stderr
    neither = await _billing(amqp_url, exchange_name, "replay", "--queue", queue)
    assert neither.returncode == 2
    assert "--message-id ID" in neither.stderr
    unknown = await _billing(amqp_url, exchange_name, "replay", "--queue", queue,
                             "--message-id", "not-there")  # fmt: skip
    assert unknown.returncode == 1
    assert "not in" in unknown.stderr
    assert "0 message(s) republished" in unknown.stdout

    projection.broken = False  # the fix is deployed
    replayed = await _billing(
        amqp_url, exchange_name, "replay", "--queue", queue, "--message-id", message_id
    )
    assert replayed.returncode == 0, replayed.stderr
    assert f"replayed {message_id} ({KEY})" in replayed.stdout
    assert "1 message(s) republished" in replayed.stdout
    assert await wait_until(lambda: projection.applied == [message_id], timeout=10)
    assert projection.applied == [message_id]
    after = await _billing(amqp_url, exchange_name, "list", "--queue", queue)
    assert after.stdout == ""
    assert "0 dead letter(s)" in after.stderr


async def test_an_unknown_queue_or_no_broker_is_a_message_not_a_traceback(
    amqp_url: str, exchange_name: str
) -> None:
    missing = await _billing(amqp_url, exchange_name, "list", "--queue", f"{exchange_name}.x")
    assert missing.returncode == 1
    assert f"no dead-letter queue {exchange_name}.x.dlq" in missing.stderr
    down = await _billing("amqp://guest:guest@127.0.0.1:1/", exchange_name, "list", "--queue", "q")
    assert down.returncode == 1
    assert "RabbitMQ unreachable" in down.stderr
    unset = await _billing("", exchange_name, "replay", "--queue", "q", "--all")
    assert unset.returncode == 2
    assert "AMQP_URL is not set" in unset.stderr
