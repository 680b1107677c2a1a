"""``billing events tail`` against the real RabbitMQ: the command runs as a process,
events are published with the platform's RabbitMQBus."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from billing_cli.events_commands import binding_keys, render
from billing_cli.main import app as cli
from billing_domain.events import (
    CustomerCreated,
    IntegrationEvent,
    SubscriptionActivated,
    SubscriptionCanceled,
    new_event,
)
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.clock import SystemClock
from billing_platform.messaging.message import OutgoingMessage
from billing_platform.messaging.rabbitmq import RabbitMQBus
from typer.testing import CliRunner

pytestmark = pytest.mark.integration

BILLING = str(Path(sys.executable).parent / "billing")


def _subscription(cls: type[IntegrationEvent], tenant: str) -> IntegrationEvent:
    return new_event(
        cls,
        tenant_id=tenant,
        source="subscriptions",
        causation_id="req_tail",
        clock=SystemClock(),
        stripe_subscription_id="sub_1",
        stripe_customer_id="cus_1",
        plan=PlanType.SOLO,
        status=SubscriptionStatus.ACTIVE,
    )


def _tail(amqp_url: str, exchange: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AMQP_URL": amqp_url, "BILLING_EXCHANGE": exchange}
    process = subprocess.Popen(
        [BILLING, "events", "tail", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    ready = process.stderr.readline()  # the queue is bound: publishing is safe
    assert ready.startswith("listening on"), ready + process.stderr.read()
    return process


async def test_tail_prints_the_matching_events_as_json_lines_and_stops_after_count(
    amqp_url: str, exchange_name: str, rabbit_bus: RabbitMQBus
) -> None:
    process = _tail(amqp_url, exchange_name, "--type", "subscription.*", "--count", "2")
    activated = _subscription(SubscriptionActivated, "tenant_a")
    canceled = _subscription(SubscriptionCanceled, "tenant_b")
    other = new_event(
        CustomerCreated,
        tenant_id="tenant_a",
        source="checkout",
        causation_id="req",
        clock=SystemClock(),
        stripe_customer_id="cus_1",
    )
    for event in (other, activated, canceled):
        await rabbit_bus.publish(OutgoingMessage.from_event(event))
    out, err = await asyncio.to_thread(process.communicate, timeout=30)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert [json.loads(line) for line in lines] == [activated.to_envelope(), canceled.to_envelope()]


def test_pretty_lines_name_type_tenant_and_data() -> None:
    event = _subscription(SubscriptionActivated, "tenant_p")
    line = render(json.dumps(event.to_envelope()).encode(), event.routing_key, pretty=True)
    assert line.split()[1] == "subscription.activated"
    assert "tenant=tenant_p source=subscriptions" in line
    assert '"plan": "solo"' in line


def test_binding_keys_and_unreadable_bodies() -> None:
    assert binding_keys([]) == ["billing.#"]
    assert binding_keys(["invoice.#", "billing.checkout.completed"]) == [
        "billing.invoice.#",
        "billing.checkout.completed",
    ]
    line = json.loads(render(b"\xffnot json", "billing.x", pretty=False))
    assert line["routing_key"] == "billing.x"
    assert "not json" in line["unreadable_body"]


def test_without_amqp_url_it_says_so() -> None:
    result = CliRunner().invoke(cli, ["events", "tail"], env={"AMQP_URL": ""})
    assert result.exit_code == 2
    assert "AMQP_URL" in result.output


def test_an_unreachable_broker_is_a_message_not_a_traceback() -> None:
    url = "amqp://guest:guest@127.0.0.1:1/"
    result = CliRunner().invoke(cli, ["events", "tail"], env={"AMQP_URL": url})
    assert result.exit_code == 1
    assert "RabbitMQ unreachable" in result.output
