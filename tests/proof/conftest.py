"""The whole product wired as in ``billing dev``, but on real RabbitMQ: the three
services behind the in-process gateway (served over HTTP so the Stripe sandbox can
deliver signed webhooks to it), a stand-in consumer recording every billing event."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from billing_cli.gateway import DevGateway
from billing_cli.services import SERVICES
from billing_platform.http.tokens import mint_token
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.waiting import wait_until
from stripe_sandbox.testing import API_KEY, serve_app

JWT_SECRET = "proof-jwt-secret-0123456789abcdef"
WEBHOOK_SECRETS = ["whsec_proof_current", "whsec_proof_previous", "whsec_proof_oldest"]
DAY = 86_400


@pytest.fixture(scope="session")
async def product_database(database_url: str) -> str:
    await upgrade_async([spec.migrations for spec in SERVICES.values()], database_url)
    return database_url


class Product:
    """What a test drives: the API through the gateway, the sandbox, the event stream."""

    def __init__(
        self,
        base: str,
        sandbox: str,
        api: httpx.AsyncClient,
        stripe_http: httpx.AsyncClient,
        events: EventCollector,
    ) -> None:
        self.base, self.sandbox, self.api, self.stripe, self.events = (
            base,
            sandbox,
            api,
            stripe_http,
            events,
        )
        self.webhook_secrets = WEBHOOK_SECRETS

    @staticmethod
    def new_tenant() -> str:
        return f"tenant_{uuid.uuid4().hex[:10]}"

    @staticmethod
    def auth(tenant: str, role: str = "owner", **claims: Any) -> dict[str, str]:
        token = mint_token(JWT_SECRET, tenant_id=tenant, role=role, **claims)
        return {"Authorization": f"Bearer {token}"}

    async def subscription(self, tenant: str) -> dict[str, Any]:
        response = await self.api.get(
            "/api/billing/subscription", headers=self.auth(tenant, "member")
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait_subscription(
        self, tenant: str, check: Callable[[dict[str, Any]], bool], timeout: float = 20
    ) -> dict[str, Any]:
        last: dict[str, Any] = {}

        async def holds() -> bool:
            nonlocal last
            last = await self.subscription(tenant)
            return check(last)

        assert await wait_until(holds, timeout=timeout), last
        return last

    async def checkout(self, tenant: str, plan: str, *, trial: bool = False) -> str:
        response = await self.api.post(
            "/api/billing/checkout", headers=self.auth(tenant), json={"plan": plan, "trial": trial}
        )
        assert response.status_code == 200, response.text
        session_id: str = response.json()["session_id"]
        return session_id

    async def pay(self, session_id: str, card: str = "4242424242424242") -> httpx.Response:
        return await self.stripe.post(f"/checkout/{session_id}/pay", data={"card": card})

    async def subscribe(self, tenant: str, plan: str, *, trial: bool = False) -> dict[str, Any]:
        session_id = await self.checkout(tenant, plan, trial=trial)
        assert (await self.pay(session_id)).status_code == 303
        expected = "trialing" if trial else "active"
        return await self.wait_subscription(
            tenant, lambda s: s["plan_type"] == plan and s["status"] == expected
        )

    async def advance(self, seconds: int) -> None:
        response = await self.stripe.post("/_sandbox/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    async def stripe_get(self, path: str, **params: Any) -> Any:
        response = await self.stripe.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def customer_of(self, tenant: str) -> str:
        found = await self.stripe_get(
            "/v1/customers/search", query=f"metadata['tenant_id']:'{tenant}'"
        )
        customer_id: str = found["data"][0]["id"]
        return customer_id

    def events_of(self, tenant: str) -> list[dict[str, Any]]:
        return [body for body in self.events.bodies() if body["tenant_id"] == tenant]

    def types_of(self, tenant: str) -> list[str]:
        return [body["type"] for body in self.events_of(tenant)]

    async def wait_event(
        self, tenant: str, event_type: str, count: int = 1, timeout: float = 20
    ) -> None:
        assert await wait_until(
            lambda: self.types_of(tenant).count(event_type) >= count, timeout=timeout
        ), (event_type, self.types_of(tenant))


@pytest.fixture
async def product(
    request: pytest.FixtureRequest,
    product_database: str,
    amqp_url: str,
    exchange_name: str,
    stripe_sandbox: Any,
    sandbox_prices: dict[str, str],
) -> AsyncIterator[Product]:
    settings = BillingSettings(
        database_url=product_database,
        amqp_url=amqp_url,
        billing_exchange=exchange_name,
        stripe_api_key=API_KEY,
        stripe_api_base=stripe_sandbox.url,
        stripe_webhook_secret=WEBHOOK_SECRETS,
        stripe_price_solo=sandbox_prices["solo"],
        stripe_price_team=sandbox_prices["team"],
        stripe_price_enterprise=sandbox_prices["enterprise"],
        jwt_secret=JWT_SECRET,
        app_base_url="http://app.test",
    )
    gateway = DevGateway(
        [
            (prefix, app)
            for spec in SERVICES.values()
            for app in [spec.create_app(settings)]
            for prefix in spec.routes
        ]
    )
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with contextlib.AsyncExitStack() as stack:
        events = await stack.enter_async_context(EventCollector(amqp_url, exchange_name))
        base = await stack.enter_async_context(serve_app(gateway))  # type: ignore[arg-type]
        stripe_http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=stripe_sandbox.url, headers=headers, timeout=30)
        )
        api = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
        if request.node.get_closest_marker("no_sandbox_webhooks"):
            yield Product(base, stripe_sandbox.url, api, stripe_http, events)
            return
        hook = await stripe_http.post(
            "/_sandbox/webhooks",
            json={"url": f"{base}/api/webhooks/stripe", "secret": WEBHOOK_SECRETS[0]},
        )
        assert hook.status_code == 200, hook.text
        try:
            yield Product(base, stripe_sandbox.url, api, stripe_http, events)
        finally:
            await stripe_http.delete(f"/_sandbox/webhooks/{hook.json()['id']}")


@pytest.fixture
def now() -> Callable[[], int]:
    return lambda: int(time.time())
