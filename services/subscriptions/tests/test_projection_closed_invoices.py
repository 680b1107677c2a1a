"""``invoice.voided`` / ``invoice.marked_uncollectible`` end the payment-failure banner
(of an ``unpaid`` subscription too), in whatever order the events arrive."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from billing_domain import events as ev
from billing_domain.status import SubscriptionStatus
from subscriptions.commands import ProjectBillingEvent
from subscriptions.projection import Projected, project_billing_event

pytestmark = pytest.mark.unit

T = datetime.fromisoformat("2026-12-01T12:00:00+00:00")


class _At:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def project(world: Any, event: ev.IntegrationEvent) -> Projected:
    cmd = ProjectBillingEvent(message_id=str(event.id), routing_key=event.routing_key, event=event)
    return await project_billing_event(cmd, world.uow(), world.gateway, world.clock)


def closed(
    cls: type[ev.InvoiceVoided] | type[ev.InvoiceMarkedUncollectible],
    tenant: str,
    *,
    invoice_id: str = "in_1",
    subscription_id: str = "sub_1",
    created: datetime = T,
) -> ev.IntegrationEvent:
    extra: dict[str, Any] = {"amount_due": 2900} if cls is ev.InvoiceMarkedUncollectible else {}
    return ev.new_event(
        cls,
        tenant_id=tenant,
        source="webhooks",
        causation_id=f"evt_{uuid.uuid4().hex[:16]}",
        clock=_At(created),
        stripe_created=created,
        stripe_invoice_id=invoice_id,
        stripe_customer_id="cus_1",
        stripe_subscription_id=subscription_id,
        currency="usd",
        **extra,
    )


async def unpaid_with_a_failure(world: Any, build: Any) -> str:
    tenant: str = build.tenant()
    unpaid = build.snapshot(status=SubscriptionStatus.UNPAID)
    await project(world, build.subscription_updated(tenant, unpaid, created=T))
    failed = build.payment_failed(
        tenant, invoice_id="in_1", subscription_id="sub_1", created=T + timedelta(hours=1)
    )
    await project(world, failed)
    assert world.store.accounts[tenant].payment_failure is not None
    return tenant


@pytest.mark.parametrize("cls", [ev.InvoiceVoided, ev.InvoiceMarkedUncollectible])
async def test_the_banner_of_an_unpaid_subscription_clears(
    world: Any, build: Any, cls: type[ev.InvoiceVoided] | type[ev.InvoiceMarkedUncollectible]
) -> None:
    tenant = await unpaid_with_a_failure(world, build)
    outcome = await project(world, closed(cls, tenant, created=T + timedelta(days=20)))
    assert outcome is Projected.APPLIED
    account = world.store.accounts[tenant]
    assert account.payment_failure is None
    assert account.status is SubscriptionStatus.UNPAID
    assert not any(t.startswith("invoice.") for t in world.store.published_types())


async def test_a_failure_arriving_after_the_void_does_not_bring_the_banner_back(
    world: Any, build: Any
) -> None:
    tenant = build.tenant()
    unpaid = build.snapshot(status=SubscriptionStatus.UNPAID)
    await project(world, build.subscription_updated(tenant, unpaid, created=T))
    await project(world, closed(ev.InvoiceVoided, tenant, created=T + timedelta(days=20)))
    late = build.payment_failed(
        tenant, invoice_id="in_1", subscription_id="sub_1", created=T + timedelta(hours=1)
    )
    assert await project(world, late) is Projected.STALE
    assert world.store.accounts[tenant].payment_failure is None


async def test_closing_another_invoice_or_another_subscriptions_keeps_the_banner(
    world: Any, build: Any
) -> None:
    tenant = await unpaid_with_a_failure(world, build)
    other_invoice = closed(ev.InvoiceVoided, tenant, invoice_id="in_2", created=T + timedelta(1))
    assert await project(world, other_invoice) is Projected.APPLIED
    other_sub = closed(ev.InvoiceVoided, tenant, subscription_id="sub_old")
    assert await project(world, other_sub) is Projected.IGNORED
    assert world.store.accounts[tenant].payment_failure is not None
