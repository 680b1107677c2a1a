"""Tokens for a service run as ``billing serve``, which requires an audience and an
issuer (``billing_platform.serve_checks``): the environment to give it and tokens it
accepts, for tests and benchmarks that start real processes."""

from __future__ import annotations

from typing import Any

from billing_platform.http.tokens import mint_token

AUDIENCE = "billing"
ISSUER = "https://id.billing.test"


def serve_jwt_env(secret: str) -> dict[str, str]:
    return {"JWT_SECRET": secret, "JWT_AUDIENCE": AUDIENCE, "JWT_ISSUER": ISSUER}


def mint_serve_token(secret: str, *, tenant_id: str, **claims: Any) -> str:
    """``mint_token`` with the audience and issuer ``serve_jwt_env`` configures."""
    return mint_token(secret, tenant_id=tenant_id, audience=AUDIENCE, issuer=ISSUER, **claims)
