"""Minting HS256 tokens shaped like the host product's, for ``billing dev`` and tests.

Production tokens come from the product's identity service; this exists so a
developer (and the test suite) can call the API with the same claims.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

import jwt


def mint_token(
    secret: str,
    *,
    tenant_id: str,
    role: str = "owner",
    user_id: str | None = None,
    scopes: Iterable[str] = (),
    ttl_seconds: int = 3600,
    audience: str | None = None,
    issuer: str | None = None,
    tenant_name: str | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": user_id or f"user_{uuid.uuid4().hex[:12]}",
        "tenant_id": tenant_id,
        "role": role,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    scope = " ".join(scopes)
    if scope:
        claims["scope"] = scope
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    if tenant_name:
        claims["tenant_name"] = tenant_name  # optional, for display only
    return jwt.encode(claims, secret, algorithm="HS256")
