"""pytest plugin (``pytest11`` entry point): the sandbox for any package's tests.

- ``stripe_sandbox``: one sandbox per test session, served in-process on a free
  port with a compressed webhook retry schedule; ``.url`` is what
  ``STRIPE_API_BASE`` should be.
- ``sandbox_http``: an httpx client to it with a test key; afterwards it removes the
  webhook endpoints and disarms the faults the test set up.
- ``sandbox_prices``: the seeded price id of each paid plan
  (``{"solo": "price_...", "team": ..., "enterprise": ...}``), what
  ``STRIPE_PRICE_*`` should be; ``sandbox_yearly_prices`` the yearly ones
  (``STRIPE_PRICE_<PLAN>_YEARLY``).

Tests that want a clean slate POST ``/_sandbox/reset`` themselves (it reseeds
the same lookup keys with new ids, so re-read ``sandbox_prices`` after it) or,
better, use their own tenants and customers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from stripe_sandbox.config import PLAN_LOOKUP_KEYS, PLAN_YEARLY_LOOKUP_KEYS, SandboxConfig
from stripe_sandbox.server import RunningSandbox, running
from stripe_sandbox.testing import API_KEY


@pytest.fixture(scope="session")
async def stripe_sandbox() -> AsyncIterator[RunningSandbox]:
    config = SandboxConfig(port=0, webhook_retry_schedule=(0.05, 0.1, 0.2, 0.4))
    async with running(config) as served:
        yield served


async def plan_price_ids(
    sandbox: RunningSandbox, keys: dict[str, str] = PLAN_LOOKUP_KEYS
) -> dict[str, str]:
    """The seeded price id of each paid plan (they change with every reset); monthly
    unless given ``PLAN_YEARLY_LOOKUP_KEYS``."""
    async with httpx.AsyncClient(
        base_url=sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:
        response = await http.get(
            "/v1/prices", params=[("lookup_keys[]", key) for key in keys.values()]
        )
    response.raise_for_status()
    by_key = {price["lookup_key"]: price["id"] for price in response.json()["data"]}
    return {plan: by_key[key] for plan, key in keys.items()}


@pytest.fixture
async def sandbox_prices(stripe_sandbox: RunningSandbox) -> dict[str, str]:
    return await plan_price_ids(stripe_sandbox)


@pytest.fixture
async def sandbox_yearly_prices(stripe_sandbox: RunningSandbox) -> dict[str, str]:
    return await plan_price_ids(stripe_sandbox, PLAN_YEARLY_LOOKUP_KEYS)


@pytest.fixture
async def sandbox_http(stripe_sandbox: RunningSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=stripe_sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:
        yield http
        await http.delete("/_sandbox/webhooks")
        await http.delete("/_sandbox/faults")
