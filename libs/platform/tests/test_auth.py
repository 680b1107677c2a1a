import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from billing_domain.auth import Role
from billing_platform.http.auth import JwtVerifier
from billing_platform.http.errors import ApiError
from billing_platform.http.jwt_keys import JwtKeys, KeyConfigError, parse_keyed_secrets
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


# -- issue 15 item 7: audience, lifetime, clock skew, key rotation, bad keys ------------


def _hs(claims: dict[str, object], secret: str = SECRET, kid: str | None = None) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, secret, algorithm="HS256", headers=headers)


def test_a_foreign_or_missing_audience_is_refused_when_one_is_configured() -> None:
    verifier = JwtVerifier(secret=SECRET, audience="billing", issuer="https://id.example")
    now = int(time.time())
    base = _claims(iat=now, iss="https://id.example")
    assert verifier.verify(_hs({**base, "aud": "billing"})).tenant_id == "t1"
    assert "audience" in _rejected(verifier, _hs({**base, "aud": "crm"})).message.lower()
    assert "aud" in _rejected(verifier, _hs(base)).message
    _rejected(verifier, _hs({**base, "aud": "billing", "iss": "https://evil.example"}))


def test_a_token_living_longer_than_the_maximum_is_refused() -> None:
    verifier = JwtVerifier(secret=SECRET, max_lifetime_seconds=86_400)
    now = int(time.time())
    assert verifier.verify(_hs(_claims(iat=now, exp=now + 86_400))).tenant_id == "t1"
    refused = _rejected(verifier, _hs(_claims(iat=now, exp=now + 86_401)))
    assert "lifetime" in refused.message
    # an old iat does not help: exp - iat is what counts
    _rejected(verifier, _hs(_claims(iat=now - 86_400 * 30, exp=now + 60)))


def test_with_a_maximum_lifetime_a_token_without_iat_is_refused() -> None:
    verifier = JwtVerifier(secret=SECRET, max_lifetime_seconds=86_400)
    assert "iat" in _rejected(verifier, _hs(_claims())).message


def test_iat_and_nbf_get_thirty_seconds_of_clock_skew_exp_none() -> None:
    verifier = JwtVerifier(secret=SECRET, max_lifetime_seconds=86_400)
    now = int(time.time())
    assert verifier.verify(_hs(_claims(iat=now + 20, nbf=now + 20))).tenant_id == "t1"
    _rejected(verifier, _hs(_claims(iat=now + 90)))
    _rejected(verifier, _hs(_claims(iat=now, nbf=now + 90)))
    expired = _rejected(verifier, _hs(_claims(iat=now - 60, exp=now - 1)))
    assert "expired" in expired.message


def test_several_hs256_keys_by_kid_rotate() -> None:
    old, new = "old-secret-" + "o" * 32, "new-secret-" + "n" * 32
    verifier = JwtVerifier(secret=old, secrets={"2026-12": new})
    assert verifier.verify(_hs(_claims(), old)).tenant_id == "t1"  # no kid: JWT_SECRET
    assert verifier.verify(_hs(_claims(), new, kid="2026-12")).tenant_id == "t1"
    _rejected(verifier, _hs(_claims(), old, kid="2026-12"))  # the kid pins its key
    _rejected(verifier, _hs(_claims(), new))  # the new key is only reachable by its kid
    _rejected(verifier, _hs(_claims(), "x" * 40, kid="unknown"))


def _jwk(public_pem: str, kid: str) -> dict[str, object]:
    key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    jwk: dict[str, object] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def test_rs256_keys_from_a_jwks_file_rotate_by_kid(tmp_path: Path) -> None:
    (old_private, old_public), (new_private, new_public) = _rsa_pair(), _rsa_pair()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [_jwk(old_public, "k1"), _jwk(new_public, "k2")]}))
    verifier = JwtVerifier(jwks_file=str(jwks))
    for private, kid in ((old_private, "k1"), (new_private, "k2")):
        token = jwt.encode(_claims(), private, algorithm="RS256", headers={"kid": kid})
        assert verifier.verify(token).tenant_id == "t1"
    swapped = jwt.encode(_claims(), old_private, algorithm="RS256", headers={"kid": "k2"})
    _rejected(verifier, swapped)
    # an HS256 token naming an RS256 kid meets no key
    _rejected(verifier, _hs(_claims(), "x" * 40, kid="k1"))


class _KeySetServer:
    """A JWKS URL on 127.0.0.1 whose key set the test changes."""

    def __init__(self, keys: list[dict[str, object]]) -> None:
        self.keys = keys
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_rs256_keys_from_a_jwks_url_and_a_new_kid_fetched_when_seen() -> None:
    (private, public), (new_private, new_public) = _rsa_pair(), _rsa_pair()
    served = _KeySetServer([_jwk(public, "url-key")])
    try:
        verifier = JwtVerifier(jwks_url=served.url)
        token = jwt.encode(_claims(), private, algorithm="RS256", headers={"kid": "url-key"})
        assert verifier.verify(token).tenant_id == "t1"
        keys = JwtKeys(jwks_url=served.url, jwks_refresh_interval_s=0)
        served.keys = [_jwk(public, "url-key"), _jwk(new_public, "rotated")]
        assert keys.key_for("RS256", "rotated") is None  # unknown now: refetched behind
        deadline = time.monotonic() + 10
        while keys.key_for("RS256", "rotated") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        rotated = jwt.encode(_claims(), new_private, algorithm="RS256", headers={"kid": "rotated"})
        key = keys.key_for("RS256", "rotated")
        assert key is not None, "the rotated key was never fetched"
        assert jwt.decode(rotated, key, algorithms=["RS256"])["tenant_id"] == "t1"
    finally:
        served.close()


def test_a_remembered_token_does_not_outlive_its_key_withdrawn_from_the_jwks_url() -> None:
    (old_private, old_public), (new_private, new_public) = _rsa_pair(), _rsa_pair()
    served = _KeySetServer([_jwk(old_public, "old")])
    try:
        verifier = JwtVerifier(jwks_url=served.url, jwks_refresh_interval_s=0)
        old = jwt.encode(_claims(), old_private, algorithm="RS256", headers={"kid": "old"})
        new = jwt.encode(_claims(), new_private, algorithm="RS256", headers={"kid": "new"})
        assert verifier.verify(old).tenant_id == "t1"
        assert verifier.verify(old).tenant_id == "t1"  # remembered from here on
        served.keys = [_jwk(new_public, "new")]  # the identity service rotated and withdrew
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                verifier.verify(new)  # an unknown kid: refused, the set re-read behind
                break
            except ApiError:
                time.sleep(0.05)
        assert verifier.verify(new).tenant_id == "t1"
        assert "key id not accepted" in _rejected(verifier, old).message
    finally:
        served.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"public_key": "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"},
            "JWT_PUBLIC_KEY",
        ),
        (
            {"secrets": {"k1": "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----"}},
            "JWT_SECRETS k1",
        ),
        ({"jwks_file": "/nonexistent/jwks.json"}, "JWT_JWKS_FILE"),
        ({"jwks_url": "http://127.0.0.1:9/jwks.json"}, "JWT_JWKS_URL"),
    ],
    ids=["unparsable PEM", "PEM as an HS secret", "missing JWKS file", "JWKS URL down"],
)
def test_a_bad_key_stops_start_up_with_a_clear_message(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(KeyConfigError, match=message):
        JwtVerifier(**kwargs)


@pytest.mark.parametrize(
    "content", ['{"keys": []}', "not json", '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}']
)
def test_an_empty_or_unusable_jwks_file_stops_start_up(tmp_path: Path, content: str) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(content)
    with pytest.raises(KeyConfigError, match="JWT_JWKS_FILE"):
        JwtVerifier(jwks_file=str(jwks))


def test_keyed_secrets_are_parsed_and_malformed_ones_refused() -> None:
    assert parse_keyed_secrets(" a=s1==, b = s2 ,") == {"a": "s1==", "b": "s2"}
    with pytest.raises(KeyConfigError, match="kid=secret"):
        parse_keyed_secrets("no-kid-here")
