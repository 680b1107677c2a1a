"""Which signed events the worker may act on: the API key's mode and the Connect accounts
we serve (issue 15 item 4; the attacks end to end: tests/hostile/test_trust_webhooks.py)."""

from __future__ import annotations

from typing import Any

import pytest
from billing_domain.webhook_log import WebhookEventStatus
from webhooks.event_trust import EventTrust
from webhooks.testing import FakeWorld
from webhooks.use_cases.processing import process_next_due

pytestmark = pytest.mark.unit


def body(**fields: Any) -> dict[str, Any]:
    return {"id": "evt_1", "type": "customer.updated", "data": {"object": {}}, **fields}


@pytest.mark.parametrize(
    ("key", "live"),
    [
        ("sk_live_abc", True),
        ("rk_live_abc", True),
        ("sk_test_abc", False),
        ("rk_test_abc", False),
        (None, False),
    ],
)
def test_the_key_decides_the_mode(key: str | None, live: bool) -> None:
    trust = EventTrust.for_key(key)
    assert trust.refusal(body(livemode=live)) is None
    refused = trust.refusal(body(livemode=not live))
    assert refused is not None
    assert refused[0] == "livemode_mismatch"


def test_a_missing_livemode_counts_as_test_mode() -> None:
    assert EventTrust.for_key("sk_test_x").refusal(body()) is None
    assert EventTrust.for_key("sk_live_x").refusal(body()) is not None


def test_only_listed_connect_accounts_are_served() -> None:
    trust = EventTrust.for_key("sk_test_x", ["acct_1Ours"])
    assert trust.refusal(body(account="acct_1Ours")) is None
    assert trust.refusal(body(account=None)) is None
    for account in ("acct_1Other", "", 7, {"id": "acct_1Ours"}):
        refused = trust.refusal(body(account=account))
        assert refused is not None
        assert refused[0] == "foreign_account"
    assert EventTrust.for_key("sk_test_x").refusal(body(account="acct_1Ours")) is not None


def tenant_b_names_cus_a(event_id: str, *, livemode: bool) -> dict[str, Any]:
    """A signed ``customer.updated`` whose metadata names tenant_b for tenant_a's customer."""
    return {
        "id": event_id,
        "object": "event",
        "type": "customer.updated",
        "created": 1_700_000_000,
        "livemode": livemode,
        "data": {"object": {"id": "cus_a", "metadata": {"tenant_id": "tenant_b"}}},
    }


async def test_the_worker_ignores_a_refused_event_with_its_reason(world: FakeWorld) -> None:
    world.customers["cus_a"] = "tenant_a"
    await world.ingest(tenant_b_names_cus_a("evt_live", livemode=True))
    done = await process_next_due(world.deps())
    assert done is not None
    assert done.status is WebhookEventStatus.PROCESSED
    assert done.note == "ignored: a live-mode event on a test-mode API key"
    assert world.customers == {"cus_a": "tenant_a"}


async def test_a_mapped_customer_is_never_re_pointed_by_metadata(world: FakeWorld) -> None:
    world.customers["cus_a"] = "tenant_a"
    await world.ingest(tenant_b_names_cus_a("evt_claim", livemode=False))
    done = await process_next_due(world.deps())
    assert done is not None
    assert done.status is WebhookEventStatus.PARKED
    assert done.note is not None
    assert "belongs to tenant tenant_a" in done.note
    assert world.customers == {"cus_a": "tenant_a"}
