"""Ingest stores an event of another Stripe API version like any other, and counts it
(deploy/README.md: the webhook endpoint must be created with the pinned version)."""

import pytest
from billing_platform.stripe_gateway import STRIPE_API_VERSION
from prometheus_client import REGISTRY
from webhooks.testing import Builders, FakeWorld
from webhooks.use_cases.ingest import version_label

pytestmark = pytest.mark.unit

METRIC = "billing_webhooks_api_version_mismatch_total"


def _count(label: str) -> float:
    return REGISTRY.get_sample_value(METRIC, {"api_version": label}) or 0.0


async def test_another_version_is_stored_and_counted_once(
    world: FakeWorld, build: type[Builders]
) -> None:
    before = _count("2025-08-27.basil")
    older = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    older["api_version"] = "2025-08-27.basil"
    assert await world.ingest(older) is False
    assert await world.ingest(older) is True  # a redelivery is not counted again
    assert older["id"] in world.log.rows
    assert _count("2025-08-27.basil") == before + 1


async def test_the_pinned_version_is_not_counted(world: FakeWorld, build: type[Builders]) -> None:
    before = _count(STRIPE_API_VERSION)
    current = build.event("invoice.paid", build.invoice(tenant="tenant_a"))
    assert current["api_version"] == STRIPE_API_VERSION
    await world.ingest(current)
    assert _count(STRIPE_API_VERSION) == before


@pytest.mark.parametrize(
    ("sent", "label"),
    [
        (None, "none"),
        ("2026-10-28.endive", "2026-10-28.endive"),
        ("2024-06-20", "2024-06-20"),
        ("x" * 5000, "other"),
        ("2026-10-28.endive\n", "other"),
        ('2026-10-28"} evil{', "other"),
        ("", "other"),
    ],
)
def test_a_label_never_carries_arbitrary_text(sent: str | None, label: str) -> None:
    assert version_label(sent) == label
