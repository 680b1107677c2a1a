"""The verifier remembers accepted tokens, never longer than it would accept them."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from billing_platform.http.auth import JwtVerifier
from billing_platform.http.dev_tokens import DEV_ISSUER, NoDevTokensVerifier
from billing_platform.http.errors import ApiError
from billing_platform.http.tokens import mint_token
from billing_platform.http.verified_tokens import Verified, VerifiedTokens

pytestmark = pytest.mark.unit

SECRET = "verified-tokens-secret-0123456789abcdef"


class CountingVerifier(JwtVerifier):
    """Counts the verifications that reach PyJWT (what the memory saves)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decoded = 0

    def _check_claims(self, claims: dict[str, Any]) -> None:
        self.decoded += 1


def _refused(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(ApiError) as refused:
        verifier.verify(token)
    assert refused.value.status == 401
    return refused.value.message


def test_a_good_token_is_verified_once_then_remembered() -> None:
    verifier = CountingVerifier(secret=SECRET)
    token = mint_token(SECRET, tenant_id="t1", role="member", ttl_seconds=600)
    first = verifier.verify(token)
    assert verifier.verify(token) == first
    assert (first.tenant_id, first.role.value) == ("t1", "member")
    assert verifier.decoded == 1


def test_a_remembered_token_is_refused_from_its_exp_on() -> None:
    now = [time.time()]
    verifier = CountingVerifier(secret=SECRET, now=lambda: now[0])
    token = mint_token(SECRET, tenant_id="t1", ttl_seconds=60)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    verifier.verify(token)
    now[0] = exp - 0.5
    verifier.verify(token)
    assert verifier.decoded == 1
    now[0] = exp  # the verifier's own clock: expired (PyJWT's real clock still accepts)
    assert _refused(verifier, token) == "token expired"
    assert verifier.decoded == 1  # refused after decoding, before the claim checks


def test_refused_tokens_are_never_remembered() -> None:
    verifier = CountingVerifier(secret=SECRET)
    forged = mint_token("another-secret-0123456789abcdefgh", tenant_id="t1")
    expired = mint_token(SECRET, tenant_id="t1", ttl_seconds=-3600)
    bad_role = jwt.encode(
        {"sub": "u1", "tenant_id": "t1", "role": "root", "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS256",
    )
    for token in (forged, expired, bad_role, forged, "garbage", bad_role):
        _refused(verifier, token)
    assert verifier.decoded == 2  # bad_role twice: decoded, then refused each time


def test_audience_and_issuer_still_decide_for_every_token() -> None:
    verifier = JwtVerifier(secret=SECRET, audience="billing", issuer="idp")
    good = mint_token(SECRET, tenant_id="t1", audience="billing", issuer="idp")
    foreign = mint_token(SECRET, tenant_id="t1", audience="other", issuer="idp")
    assert verifier.verify(good).tenant_id == "t1"
    assert verifier.verify(good).tenant_id == "t1"
    assert "audience" in _refused(verifier, foreign).lower()


def test_a_dev_token_is_refused_every_time_by_the_services_verifier() -> None:
    verifier = NoDevTokensVerifier(secret=SECRET)
    dev = mint_token(SECRET, tenant_id="t1", issuer=DEV_ISSUER)
    assert _refused(verifier, dev) == "invalid token: minted by billing dev"
    assert _refused(verifier, dev) == "invalid token: minted by billing dev"


def test_an_exp_beyond_any_float_is_remembered_without_overflow() -> None:
    """Regression (tests/hostile): float(10**400) raised OverflowError (a 500)."""
    verifier = CountingVerifier(secret=SECRET)
    claims = {"sub": "u1", "tenant_id": "t1", "role": "member", "exp": 10**400}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert verifier.verify(token).tenant_id == "t1"
    assert verifier.verify(token).tenant_id == "t1"
    assert verifier.decoded == 1


def test_the_memory_is_bounded_and_forgets_the_oldest_first() -> None:
    verifier = CountingVerifier(secret=SECRET, remember=3)
    tokens = [mint_token(SECRET, tenant_id=f"t{n}") for n in range(5)]
    for token in tokens:
        verifier.verify(token)
    verifier.verify(tokens[-1])  # among the last three: remembered
    assert verifier.decoded == 5
    verifier.verify(tokens[0])  # pushed out: verified again
    assert verifier.decoded == 6
    memory = VerifiedTokens(max_entries=2)
    entry = Verified(verifier.verify(tokens[0]), 2**62, "HS256", None, object())
    for token in tokens:
        memory.remember(token, entry)
    assert len(memory) == 2
    assert memory.get(tokens[0], time.time()) is None
    assert memory.get(tokens[-1], time.time()) is entry
