import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from billing_domain.auth import Role
from billing_platform.http.auth import JwtVerifier
from billing_platform.http.errors import ApiError
from billing_platform.http.tokens import mint_token
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

pytestmark = pytest.mark.unit

SECRET = "s" * 32


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "sub": "u1",
        "tenant_id": "t1",
        "role": "owner",
        "exp": int(time.time()) + 60,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _rejected(verifier: JwtVerifier, token: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        verifier.verify(token)
    assert caught.value.status == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}
    return caught.value


def test_valid_hs256_token_gives_principal() -> None:
    token = mint_token(SECRET, tenant_id="t1", role="admin", user_id="u9", scopes=["billing:admin"])
    principal = JwtVerifier(secret=SECRET).verify(token)
    assert principal.user_id == "u9"
    assert principal.tenant_id == "t1"
    assert principal.role is Role.ADMIN
    assert principal.scopes == frozenset({"billing:admin"})


def test_expired_token_is_rejected() -> None:
    token = jwt.encode(_claims(exp=int(time.time()) - 120), SECRET, algorithm="HS256")
    assert "expired" in _rejected(JwtVerifier(secret=SECRET), token).message


def test_a_token_expired_two_seconds_ago_is_rejected() -> None:
    """No leeway: expired means 401 from ``exp`` on."""
    token = jwt.encode(_claims(exp=int(time.time()) - 2), SECRET, algorithm="HS256")
    assert "expired" in _rejected(JwtVerifier(secret=SECRET), token).message


def test_a_short_secret_still_verifies_tokens() -> None:
    """Weak but configured: a warning at start-up, not a service that refuses to start."""
    with pytest.warns(jwt.warnings.InsecureKeyLengthWarning):
        token = jwt.encode(_claims(), "secret", algorithm="HS256")
    with pytest.warns(jwt.warnings.InsecureKeyLengthWarning):
        assert JwtVerifier(secret="secret").verify(token).tenant_id == "t1"


def test_wrong_signature_is_rejected() -> None:
    token = jwt.encode(_claims(), "x" * 32, algorithm="HS256")
    _rejected(JwtVerifier(secret=SECRET), token)


def test_alg_none_is_rejected() -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}."
    _rejected(JwtVerifier(secret=SECRET), token)


@pytest.mark.parametrize("missing", ["sub", "tenant_id", "role", "exp"])
def test_missing_claim_is_rejected(missing: str) -> None:
    token = jwt.encode(_claims(**{missing: None}), SECRET, algorithm="HS256")
    _rejected(JwtVerifier(secret=SECRET), token)


def test_unknown_role_and_bad_scope_are_rejected() -> None:
    verifier = JwtVerifier(secret=SECRET)
    _rejected(verifier, jwt.encode(_claims(role="superuser"), SECRET, algorithm="HS256"))
    _rejected(verifier, jwt.encode(_claims(scope=42), SECRET, algorithm="HS256"))
    _rejected(verifier, jwt.encode(_claims(tenant_id=""), SECRET, algorithm="HS256"))
    _rejected(verifier, jwt.encode(_claims(tenant_id="t\x00"), SECRET, algorithm="HS256"))
    _rejected(verifier, jwt.encode(_claims(sub="u\x00"), SECRET, algorithm="HS256"))


def test_garbage_is_rejected() -> None:
    _rejected(JwtVerifier(secret=SECRET), "not-a-jwt")


def _rsa_pair() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def test_rs256_accepted_and_algorithm_confusion_rejected() -> None:
    private, public = _rsa_pair()
    verifier = JwtVerifier(public_key=public)
    assert verifier.verify(jwt.encode(_claims(), private, algorithm="RS256")).tenant_id == "t1"
    # HS256 signed with the public key as the HMAC secret: the classic confusion attack.
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64(_claims())
    signature = hmac.new(public.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    _rejected(verifier, forged)


def test_audience_and_issuer_checked_when_configured() -> None:
    verifier = JwtVerifier(secret=SECRET, audience="billing", issuer="https://id.example")
    good = mint_token(SECRET, tenant_id="t1", audience="billing", issuer="https://id.example")
    assert verifier.verify(good).tenant_id == "t1"
    _rejected(
        verifier, mint_token(SECRET, tenant_id="t1", audience="other", issuer="https://id.example")
    )
    _rejected(verifier, mint_token(SECRET, tenant_id="t1", audience="billing"))


def test_verifier_needs_a_key() -> None:
    with pytest.raises(ValueError, match="JWT_SECRET or JWT_PUBLIC_KEY"):
        JwtVerifier()
