"""One Stripe API version: what the platform pins, what the SDK's types describe,
what the sandbox serves (deploy/README.md: the production webhook endpoint too)."""

from __future__ import annotations

import httpx
import pytest
import stripe
from billing_platform.stripe_gateway import STRIPE_API_VERSION
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.state import State
from stripe_sandbox.testing import API_KEY

pytestmark = pytest.mark.unit


def test_the_platform_pins_the_version_of_the_sdk_it_is_typed_with() -> None:
    """(Every request's ``Stripe-Version`` is checked by the parameter audit.)"""
    assert stripe.api_version == STRIPE_API_VERSION


def test_the_sandbox_serves_the_pinned_version() -> None:
    assert SandboxConfig().api_version == STRIPE_API_VERSION
    assert State().api_version == STRIPE_API_VERSION


@pytest.mark.e2e
async def test_the_sandboxs_events_carry_the_pinned_version(
    stripe_sandbox: RunningSandbox,
) -> None:
    async with httpx.AsyncClient(
        base_url=stripe_sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:
        created = await http.post("/v1/customers", data={"description": "version check"})
        assert created.status_code == 200, created.text
        listed = await http.get("/v1/events", params={"limit": 1})
    assert listed.status_code == 200, listed.text
    (event,) = listed.json()["data"]
    assert event["api_version"] == STRIPE_API_VERSION
