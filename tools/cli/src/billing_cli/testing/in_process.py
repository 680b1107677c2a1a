"""The three services in-process (ASGI) on one database, Stripe through the sandbox:
what the hostile-input suite (tests/hostile) drives, with tokens good and bad and
signed Stripe events."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import jwt
from billing_platform.http.tokens import mint_token
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.settings import BillingSettings
from billing_platform.stripe_gateway import STRIPE_API_VERSION
from fastapi import FastAPI
from stripe_sandbox.webhooks import sign

JWT_SECRET = "hostile-jwt-secret-0123456789abcdef"
WEBHOOK_SECRET = "whsec_hostile_current"
OPERATOR_SCOPE = "billing:admin"


def hostile_settings(
    database_url: str, sandbox_url: str, prices: dict[str, str]
) -> BillingSettings:
    return BillingSettings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        stripe_api_key="sk_test_x",
        stripe_api_base=sandbox_url,
        stripe_webhook_secret=[WEBHOOK_SECRET],
        stripe_price_solo=prices["solo"],
        stripe_price_team=prices["team"],
        stripe_price_enterprise=prices["enterprise"],
        app_base_url="http://app.test",
    )


@dataclass
class Running:
    """The three services started (lifespans run), one client per service and the gateway."""

    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient]
    gateway: httpx.AsyncClient
    bus: InMemoryBus
    database_url: str
    sandbox_url: str

    async def pay(self, session_id: str, card: str = "4242424242424242") -> None:
        """Pay a Checkout session on the sandbox's hosted page, as a customer would."""
        async with httpx.AsyncClient(base_url=self.sandbox_url) as http:
            response = await http.post(f"/checkout/{session_id}/pay", data={"card": card})
        assert response.status_code == 303, response.text

    async def fetchval(self, query: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Tokens:
    """Bearer tokens good and bad. ``bad(kind, tenant)`` kinds: ``BAD_KINDS``."""

    BAD_KINDS = (
        "garbage",
        "expired",
        "wrong_signature",
        "alg_none",
        "missing_sub",
        "missing_tenant_id",
        "missing_role",
        "missing_exp",
    )

    @staticmethod
    def new_tenant() -> str:
        return f"tenant_{uuid.uuid4().hex[:12]}"

    @staticmethod
    def claims(tenant: str, role: str = "owner", ttl: int = 3600) -> dict[str, Any]:
        now = int(time.time())
        return {
            "sub": f"user_{uuid.uuid4().hex[:8]}",
            "tenant_id": tenant,
            "role": role,
            "iat": now,
            "exp": now + ttl,
        }

    def valid(self, tenant: str, role: str = "owner", *, operator: bool = False) -> str:
        scopes = [OPERATOR_SCOPE] if operator else []
        return mint_token(JWT_SECRET, tenant_id=tenant, role=role, scopes=scopes)

    def bad(self, kind: str, tenant: str) -> str:
        claims = self.claims(tenant)
        if kind == "garbage":
            return "not-a-jwt"
        if kind == "expired":
            return jwt.encode(self.claims(tenant, ttl=-3600), JWT_SECRET, algorithm="HS256")
        if kind == "wrong_signature":
            return jwt.encode(
                claims, "another-secret-0123456789abcdef-0123456789", algorithm="HS256"
            )
        if kind == "alg_none":  # every claim right, no signature
            return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
        if kind.startswith("missing_") and kind.removeprefix("missing_") in claims:
            del claims[kind.removeprefix("missing_")]
            return jwt.encode(claims, JWT_SECRET, algorithm="HS256")
        raise KeyError(kind)

    @staticmethod
    def header(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


class Webhooks:
    """Stripe-shaped events and their signature headers."""

    @staticmethod
    def event(
        obj: dict[str, Any], event_type: str = "customer.subscription.updated"
    ) -> dict[str, Any]:
        return {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "api_version": STRIPE_API_VERSION,
            "livemode": False,
            "data": {"object": obj},
        }

    @staticmethod
    def signed(payload: bytes) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Stripe-Signature": sign(payload.decode(), WEBHOOK_SECRET),
        }
