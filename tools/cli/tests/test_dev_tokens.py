"""Issue 15 item 5: what ``billing dev`` mints is good on ``billing dev`` only.

The attack: ``POST /dev/token`` mints ``billing:admin`` for any tenant with the
environment's ``JWT_SECRET``; those tokens worked against ``billing serve`` sharing that
secret. Now each carries ``iss: billing-dev``, which the services' verifier refuses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from asgi_lifespan import LifespanManager
from billing_cli.dev import dev_gateway
from billing_cli.dev_web import dev_web_app
from billing_cli.services import SERVICES
from billing_platform.http.tokens import mint_token
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings
from fastapi import FastAPI

pytestmark = pytest.mark.integration

SHARED_SECRET = "the-environments-jwt-secret-0123456789"
EVENTS = "/api/webhooks/events"


def _settings(database_url: str) -> BillingSettings:
    return BillingSettings(
        database_url=database_url,
        jwt_secret=SHARED_SECRET,
        stripe_api_key="sk_test_dev_tokens",
        stripe_webhook_secret=["whsec_dev_tokens"],
        app_base_url="http://127.0.0.1:8000",
    )


def _client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30)


async def _dev_token(settings: BillingSettings, role: str = "operator") -> str:
    async with _client(dev_web_app(settings)) as web:
        minted = await web.post("/dev/token", json={"tenant_id": "tenant_victim", "role": role})
    assert minted.status_code == 200, minted.text
    token: str = minted.json()["token"]
    return token


@pytest.fixture
async def served_webhooks(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The webhooks service as ``billing serve webhooks`` builds it (SERVICES' factory)."""
    await upgrade_async([spec.migrations for spec in SERVICES.values()], database_url)
    bus = InMemoryBus()
    app: FastAPI = SERVICES["webhooks"].create_app(_settings(database_url), bus=bus)
    async with LifespanManager(app), _client(app) as client:
        yield client
    await bus.close()


async def test_a_dev_operator_token_is_refused_by_billing_serve_with_the_same_secret(
    database_url: str, served_webhooks: httpx.AsyncClient
) -> None:
    settings = _settings(database_url)
    dev_operator = await _dev_token(settings)
    own = mint_token(SHARED_SECRET, tenant_id="tenant_ops", scopes=["billing:admin"])

    refused = await served_webhooks.get(EVENTS, headers={"Authorization": f"Bearer {dev_operator}"})
    accepted = await served_webhooks.get(EVENTS, headers={"Authorization": f"Bearer {own}"})

    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == {
        "code": "unauthorized",
        "message": "invalid token: minted by billing dev",
    }
    assert accepted.status_code == 200, accepted.text  # the same secret, a real issuer


async def test_billing_dev_takes_its_own_tokens_and_the_tests_tokens(database_url: str) -> None:
    settings = _settings(database_url)
    gateway = await asyncio.to_thread(dev_gateway, settings)
    dev_owner = await _dev_token(settings, role="owner")
    own = mint_token(SHARED_SECRET, tenant_id="tenant_own")
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(LifespanManager(gateway))
        client = await stack.enter_async_context(_client(gateway))
        for token in (dev_owner, own):
            answer = await client.get(
                "/api/billing/subscription", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200, answer.text
