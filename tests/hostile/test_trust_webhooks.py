"""Issue 15 item 4: validly signed Stripe events that must not be acted on.

A signature proves Stripe sent the event, not that it is ours to apply: an event of the
other mode (``livemode: true`` on a test key), one of a Connect ``account`` we do not
serve, and one whose metadata names another tenant for a customer already mapped. Before
the fix each of them re-pointed tenant A's Stripe customer to tenant B. Each is still
stored and answered 200 (Stripe signed it), and never applied.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from billing_cli.testing.in_process import Running, Tokens, Webhooks
from billing_platform.testing.waiting import wait_until

pytestmark = pytest.mark.integration

PATH = "/api/webhooks/stripe"
ROW = (
    "SELECT status || '|' || coalesce(note, '') "
    "FROM webhooks.stripe_webhook_events_log WHERE event_id = $1"
)
MAPPED = "SELECT tenant_id FROM webhooks.customer_tenants WHERE stripe_customer_id = $1"


async def deliver(running: Running, webhooks: Webhooks, event: dict[str, Any]) -> str:
    """POST a signed event, wait until the worker has finished it: ``status|note``."""
    payload = json.dumps(event).encode()
    response = await running.clients["webhooks"].post(
        PATH, content=payload, headers=webhooks.signed(payload)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "duplicate": False}

    async def finished() -> bool:
        row = await running.fetchval(ROW, event["id"])
        return row is not None and not row.startswith(("pending", "retrying"))

    assert await wait_until(finished, timeout=15)
    row: str = await running.fetchval(ROW, event["id"])
    return row


def customer_event(
    webhooks: Webhooks, customer: str, tenant: str, **envelope: Any
) -> dict[str, Any]:
    obj = {"id": customer, "object": "customer", "metadata": {"tenant_id": tenant}}
    return {**webhooks.event(obj, "customer.updated"), **envelope}


async def tenant_a_customer(
    running: Running, webhooks: Webhooks, tokens: Tokens
) -> tuple[str, str]:
    tenant_a, customer = tokens.new_tenant(), f"cus_{uuid.uuid4().hex[:14]}"
    created = {**customer_event(webhooks, customer, tenant_a), "type": "customer.created"}
    assert await deliver(running, webhooks, created) == "processed|customer linked to tenant"
    assert await running.fetchval(MAPPED, customer) == tenant_a
    return tenant_a, customer


async def test_a_live_mode_connect_event_naming_tenant_b_is_ignored_and_a_keeps_its_customer(
    running: Running, webhooks: Webhooks, tokens: Tokens
) -> None:
    tenant_a, customer = await tenant_a_customer(running, webhooks, tokens)
    tenant_b = tokens.new_tenant()
    attack = customer_event(webhooks, customer, tenant_b, livemode=True, account="acct_evil")
    row = await deliver(running, webhooks, attack)
    assert row == "processed|ignored: a live-mode event on a test-mode API key"
    assert await running.fetchval(MAPPED, customer) == tenant_a


async def test_a_foreign_connect_account_event_is_ignored(
    running: Running, webhooks: Webhooks, tokens: Tokens
) -> None:
    tenant_a, customer = await tenant_a_customer(running, webhooks, tokens)
    attack = customer_event(webhooks, customer, tokens.new_tenant(), account="acct_1Other")
    row = await deliver(running, webhooks, attack)
    assert row == "processed|ignored: Connect account acct_1Other is not in STRIPE_CONNECT_ACCOUNTS"
    assert await running.fetchval(MAPPED, customer) == tenant_a


async def test_metadata_never_re_points_a_mapped_customer_the_event_is_parked(
    running: Running, webhooks: Webhooks, tokens: Tokens
) -> None:
    tenant_a, customer = await tenant_a_customer(running, webhooks, tokens)
    tenant_b = tokens.new_tenant()
    published_before = len(running.bus.published)
    row = await deliver(running, webhooks, customer_event(webhooks, customer, tenant_b))
    assert row.startswith("parked|parked: customer ")
    assert f"belongs to tenant {tenant_a}" in row
    assert f"names tenant {tenant_b}" in row
    assert await running.fetchval(MAPPED, customer) == tenant_a
    assert not any(tenant_b.encode() in m.body for m in running.bus.published[published_before:])


async def test_a_live_mode_subscription_event_for_another_tenant_publishes_nothing(
    running: Running, webhooks: Webhooks, tokens: Tokens
) -> None:
    """The probe's consequence: a live event about tenant A's customer naming tenant B
    published a billing event for B (a plan it never paid for)."""
    tenant_a, customer = await tenant_a_customer(running, webhooks, tokens)
    tenant_b = tokens.new_tenant()
    subscription = {
        "id": f"sub_{uuid.uuid4().hex[:14]}",
        "object": "subscription",
        "customer": customer,
        "status": "active",
        "metadata": {"tenant_id": tenant_b, "plan": "enterprise"},
    }
    attack = {**webhooks.event(subscription), "livemode": True}
    published_before = len(running.bus.published)
    row = await deliver(running, webhooks, attack)
    assert row.startswith("processed|ignored: a live-mode event")
    assert not any(tenant_b.encode() in m.body for m in running.bus.published[published_before:])
    assert await running.fetchval(MAPPED, customer) == tenant_a
