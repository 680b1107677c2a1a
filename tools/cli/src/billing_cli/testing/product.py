"""The whole product as ``billing dev`` wires it, on real RabbitMQ: what the proofs
(tests/proof) drive through the gateway, the Stripe sandbox and the event stream."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from billing_platform.http.tokens import mint_token
from billing_platform.testing.collector import EventCollector
from billing_platform.testing.waiting import wait_until

JWT_SECRET = "proof-jwt-secret-0123456789abcdef"
WEBHOOK_SECRETS = ["whsec_proof_current", "whsec_proof_previous", "whsec_proof_oldest"]


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
