"""Issue 15 items 7 and 8: tokens and secrets.

- A service configured with an audience and issuer (as ``billing serve`` now requires)
  refuses a token for another audience, one without ``aud``, one living longer than
  ``JWT_MAX_LIFETIME_SECONDS``; keys rotate by ``kid``.
- ``billing serve`` refuses to start without ``JWT_AUDIENCE``/``JWT_ISSUER``, with
  deploy/env.example's placeholder secrets, or with a key it cannot parse, naming
  the problem (exit 2), instead of running on them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from billing_cli.services import SERVICES
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.settings import BillingSettings

pytestmark = pytest.mark.integration

AUDIENCE, ISSUER = "billing", "https://id.tenant-platform.test"
OLD_KEY, NEW_KEY = "old-" + "7f3a9c" * 8, "new-" + "c91e4b" * 8
SUBSCRIPTION = "/api/billing/subscription"


def token(key: str = OLD_KEY, kid: str | None = None, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user_1",
        "tenant_id": f"tenant_{uuid.uuid4().hex[:8]}",
        "role": "member",
        "iat": now,
        "exp": now + 600,
        "aud": AUDIENCE,
        "iss": ISSUER,
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid} if kid else None)


@pytest.fixture(scope="module")
async def subscriptions(hostile_database: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = BillingSettings(
        database_url=hostile_database,
        jwt_secret=OLD_KEY,
        jwt_secrets=f"2026-12={NEW_KEY}",
        jwt_audience=AUDIENCE,
        jwt_issuer=ISSUER,
        stripe_api_key="sk_test_x",
    )
    bus = InMemoryBus()
    app = SERVICES["subscriptions"].create_app(settings, bus=bus)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://subs") as client:
            yield client
    await bus.close()


async def status(client: httpx.AsyncClient, bearer: str) -> int:
    response = await client.get(SUBSCRIPTION, headers={"Authorization": f"Bearer {bearer}"})
    return response.status_code


@pytest.mark.parametrize(
    ("name", "bearer"),
    [
        ("another product's audience", lambda: token(aud="crm")),
        ("no audience", lambda: token(aud=None)),
        ("another issuer", lambda: token(iss="https://evil.test")),
        ("lifetime beyond 24 h", lambda: token(exp=int(time.time()) + 86_400 + 60)),
        ("no iat", lambda: token(iat=None)),
        ("a retired key under the new kid", lambda: token(OLD_KEY, kid="2026-12")),
    ],
)
async def test_refused_tokens(
    subscriptions: httpx.AsyncClient, name: str, bearer: Callable[[], str]
) -> None:
    assert await status(subscriptions, bearer()) == 401, name


async def test_keys_rotate_by_kid(subscriptions: httpx.AsyncClient) -> None:
    assert await status(subscriptions, token(OLD_KEY)) == 200
    assert await status(subscriptions, token(NEW_KEY, kid="2026-12")) == 200


# -- billing serve refuses to start -----------------------------------------------------

BILLING = str(Path(sys.executable).with_name("billing"))


def serve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/none",
        "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "STRIPE_API_KEY": "sk_test_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_9d1e7c3a5b2f4e6d8c0a1b3c5d7e9f01",
        "JWT_SECRET": OLD_KEY,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_ISSUER": ISSUER,
    }
    command = [BILLING, "serve", "checkout", "--port", "1"]
    return subprocess.run(command, env={**base, **env}, capture_output=True, text=True, timeout=120)


def env_example() -> dict[str, str]:
    lines = (Path(__file__).resolve().parents[2] / "deploy" / "env.example").read_text()
    pairs = (line.split("=", 1) for line in lines.splitlines() if line and line[0] != "#")
    return dict(pairs)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"JWT_SECRET": env_example()["JWT_SECRET"]}, "JWT_SECRET is a placeholder"),
        (
            {"STRIPE_WEBHOOK_SECRET": env_example()["STRIPE_WEBHOOK_SECRET"]},
            "STRIPE_WEBHOOK_SECRET holds a placeholder",
        ),
        ({"JWT_SECRET": "change-me-change-me-change-me"}, "JWT_SECRET is a placeholder"),
        ({"JWT_AUDIENCE": ""}, "JWT_AUDIENCE is not set"),
        ({"JWT_ISSUER": ""}, "JWT_ISSUER is not set"),
        (
            {"AMQP_URL": "amqp://billing:billing@rabbitmq.internal:5672/"},
            "AMQP_URL uses a default",
        ),
        (
            {"JWT_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"},
            "JWT_PUBLIC_KEY: not a usable RS256 key",
        ),
        ({"JWT_JWKS_FILE": "/nonexistent/jwks.json"}, "JWT_JWKS_FILE: cannot read"),
    ],
    ids=[
        "env.example JWT_SECRET",
        "env.example webhook secret",
        "the README's old example",
        "no audience",
        "no issuer",
        "default broker password",
        "unparsable PEM",
        "missing JWKS file",
    ],
)
def test_billing_serve_refuses_to_start(env: dict[str, str], named: str) -> None:
    result = serve(env)
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert named in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
