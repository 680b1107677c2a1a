"""Remembered tokens: never accepted longer than the verifier itself would accept them."""

from __future__ import annotations

import time

import jwt
import pytest
from billing_platform.http.auth import LEEWAY_S, JwtVerifier
from billing_platform.http.errors import ApiError
from billing_platform.http.tokens import mint_token
from subscriptions.token_cache import VerifiedTokens

pytestmark = pytest.mark.unit

SECRET = "token-cache-secret-0123456789abcdef"


class CountingVerifier(JwtVerifier):
    def __init__(self) -> None:
        super().__init__(secret=SECRET)
        self.calls = 0

    def verify(self, token: str):  # type: ignore[no-untyped-def]
        self.calls += 1
        return super().verify(token)


def test_a_good_token_is_verified_once_then_remembered() -> None:
    verifier = CountingVerifier()
    tokens = VerifiedTokens(verifier)
    token = mint_token(SECRET, tenant_id="t1", role="member", ttl_seconds=600)
    first = tokens.principal(token)
    assert tokens.principal(token) == first
    assert (first.tenant_id, first.role.value) == ("t1", "member")
    assert verifier.calls == 1


def test_a_remembered_token_expires_with_the_verifiers_leeway() -> None:
    verifier = CountingVerifier()
    now = [time.time()]
    tokens = VerifiedTokens(verifier, now=lambda: now[0])
    token = mint_token(SECRET, tenant_id="t1", ttl_seconds=60)
    tokens.principal(token)
    now[0] += 60 + LEEWAY_S - 1
    tokens.principal(token)
    assert verifier.calls == 1
    now[0] += 2  # past exp + leeway: asked again (and the real clock still accepts it)
    tokens.principal(token)
    assert verifier.calls == 2


def test_bad_tokens_are_never_remembered() -> None:
    verifier = CountingVerifier()
    tokens = VerifiedTokens(verifier)
    forged = mint_token("another-secret-0123456789abcdefgh", tenant_id="t1")
    expired = mint_token(SECRET, tenant_id="t1", ttl_seconds=-3600)
    for token in (forged, expired, forged, "garbage"):
        with pytest.raises(ApiError) as refused:
            tokens.principal(token)
        assert refused.value.status == 401
    assert verifier.calls == 4


def test_an_exp_beyond_any_float_is_verified_every_time() -> None:
    """Regression (tests/hostile): float(10**400) raised OverflowError, so a signed token
    with such an ``exp`` made GET /api/billing/subscription a 500."""
    verifier = CountingVerifier()
    tokens = VerifiedTokens(verifier)
    claims = {"sub": "u1", "tenant_id": "t1", "role": "member", "exp": 10**400}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert tokens.principal(token).tenant_id == "t1"
    assert tokens.principal(token).tenant_id == "t1"
    assert verifier.calls == 2


def test_the_memory_is_bounded() -> None:
    tokens = VerifiedTokens(CountingVerifier(), max_entries=3)
    for n in range(10):
        tokens.principal(mint_token(SECRET, tenant_id=f"t{n}"))
    assert len(tokens._known) <= 3
