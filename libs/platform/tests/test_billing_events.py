"""The one consumer style: decode a billing event, project it with the tenant bound."""

from __future__ import annotations

import json

import pytest
import structlog
from billing_domain.events import SubscriptionCanceled, new_event
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_platform.messaging.billing_events import ConsumedEvent, billing_event_handler
from billing_platform.messaging.message import IncomingMessage, PoisonMessage
from billing_platform.testing.clock import FakeClock

pytestmark = pytest.mark.unit


def message(body: object, message_id: str = "m-1") -> IncomingMessage:
    return IncomingMessage(
        message_id=message_id, routing_key="billing.x", body=json.dumps(body).encode()
    )


def canceled(tenant_id: str) -> SubscriptionCanceled:
    return new_event(
        SubscriptionCanceled,
        tenant_id=tenant_id,
        source="subscriptions",
        causation_id="req-1",
        clock=FakeClock(),
        stripe_subscription_id="sub_1",
        stripe_customer_id="cus_1",
        plan=PlanType.FREE,
        status=SubscriptionStatus.CANCELED,
        cancel_at_period_end=False,
        current_period_end=None,
        trial_end=None,
        pending_plan=None,
    )


async def test_a_known_event_is_projected_with_its_tenant_bound() -> None:
    seen: list[tuple[ConsumedEvent, object]] = []

    async def project(cmd: ConsumedEvent) -> None:
        seen.append((cmd, structlog.contextvars.get_contextvars().get("tenant_id")))

    event = canceled("t-1")
    await billing_event_handler("svc", project)(message(event.to_envelope()))
    [(cmd, bound)] = seen
    assert (cmd.message_id, cmd.event, bound) == ("m-1", event, "t-1")


async def test_unknown_types_are_acked_and_bodies_that_never_decode_are_poison() -> None:
    projected: list[ConsumedEvent] = []

    async def project(cmd: ConsumedEvent) -> None:
        projected.append(cmd)

    handle = billing_event_handler("svc", project)
    unknown = {**canceled("t-1").to_envelope(), "type": "subscription.teleported"}
    await handle(message(unknown))
    assert projected == []
    for poison in (b"{oops", json.dumps(canceled("t" * 201).to_envelope()).encode()):
        with pytest.raises(PoisonMessage):
            await handle(IncomingMessage(message_id="m-2", routing_key="billing.x", body=poison))
    assert projected == []
