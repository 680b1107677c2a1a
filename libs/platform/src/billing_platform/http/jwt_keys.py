"""The keys bearer tokens may be signed with, parsed once, at start-up.

- ``JWT_SECRET``: the HS256 key of tokens without a ``kid`` (or with one no other
  key claims);
- ``JWT_SECRETS``: more HS256 keys by id, ``kid=secret`` comma-separated, for
  rotation (the identity service signs new tokens with the new ``kid`` while old
  tokens still verify);
- ``JWT_PUBLIC_KEY``: the RS256 public key (PEM) of tokens without a known ``kid``;
- ``JWT_JWKS_FILE`` / ``JWT_JWKS_URL``: RS256 keys by ``kid`` as a JSON Web Key Set
  (PyJWT's ``PyJWKSet`` / ``PyJWKClient``). The URL is read at start-up and again, in
  a background thread, at most once a minute when a token names a ``kid`` the set
  does not hold (that token is refused; its retry finds the new key), and once it
  is ``JWKS_MAX_AGE_S`` old. A ``kid`` the URL no longer lists is dropped then, so
  its tokens (remembered ones included: ``verified_tokens``) are refused.

A key that cannot be used (an unparsable PEM, an empty or invalid key set, a key set
URL that does not answer) raises ``KeyConfigError`` here, so the service does not
start, instead of answering 401 to every request.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import jwt
import structlog

log = structlog.get_logger("billing_platform.auth")

ALGORITHMS = ("HS256", "RS256")
JWKS_REFRESH_MIN_INTERVAL_S = 60.0
JWKS_TIMEOUT_S = 5.0
JWKS_MAX_AGE_S = 300.0
"""A key set read from the URL is read again (in the background) once this old."""


class KeyConfigError(ValueError):
    """A configured JWT key cannot be used."""


def parse_keyed_secrets(value: str) -> dict[str, str]:
    """``kid=secret,kid2=secret2`` -> ``{kid: secret}`` (a secret may hold ``=``)."""
    keys: dict[str, str] = {}
    for part in (piece.strip() for piece in value.split(",")):
        if not part:
            continue
        kid, sep, secret = part.partition("=")
        if not sep or not kid.strip() or not secret.strip():
            raise KeyConfigError("JWT_SECRETS: each entry must be kid=secret")
        keys[kid.strip()] = secret.strip()
    return keys


class JwtKeys:
    """Prepared keys by algorithm: one without a ``kid`` and any number by ``kid``."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        secrets: dict[str, str] | None = None,
        public_key: str | None = None,
        jwks_file: str | None = None,
        jwks_url: str | None = None,
        jwks_refresh_interval_s: float = JWKS_REFRESH_MIN_INTERVAL_S,
    ) -> None:
        self._refresh_interval = jwks_refresh_interval_s
        self._default: dict[str, Any] = {}
        self._by_kid: dict[str, tuple[str, Any]] = {}
        if secret:
            self._default["HS256"] = _prepare("HS256", secret, "JWT_SECRET")
        for kid, value in (secrets or {}).items():
            self._by_kid[kid] = ("HS256", _prepare("HS256", value, f"JWT_SECRETS {kid}"))
        if public_key:
            self._default["RS256"] = _prepare("RS256", public_key, "JWT_PUBLIC_KEY")
        if jwks_file:
            self._add_key_set(_read_key_set_file(jwks_file), "JWT_JWKS_FILE")
        self._client: jwt.PyJWKClient | None = None
        self._refreshing = threading.Lock()
        self._refreshed_at = 0.0
        self._url_kids: set[str] = set()
        if jwks_url:
            self._client = jwt.PyJWKClient(jwks_url, cache_jwk_set=False, timeout=JWKS_TIMEOUT_S)
            try:
                self._url_kids = self._add_key_set(self._client.get_jwk_set(), "JWT_JWKS_URL")
            except jwt.PyJWKClientError as exc:
                raise KeyConfigError(f"JWT_JWKS_URL: {exc}") from None
            self._refreshed_at = time.monotonic()
        if not self._default and not self._by_kid:
            raise KeyConfigError("JWT_SECRET or JWT_PUBLIC_KEY (or JWKS / JWT_SECRETS) must be set")

    def key_for(self, algorithm: str, kid: str | None) -> Any | None:
        """The key a token with this header must verify with; ``None``: no such key."""
        if self._client is not None and time.monotonic() - self._refreshed_at >= JWKS_MAX_AGE_S:
            self._refresh_soon()
        if kid is not None:
            keyed = self._by_kid.get(kid)
            if keyed is not None:
                return keyed[1] if keyed[0] == algorithm else None
            self._refresh_soon()
        return self._default.get(algorithm)

    def _add_key_set(self, key_set: jwt.PyJWKSet, where: str) -> set[str]:
        """Add the set's RS256 keys (a kid already known is replaced); their kids."""
        added: dict[str, tuple[str, Any]] = {
            key.key_id: ("RS256", key.key)
            for key in key_set.keys
            if key.key_id and key.algorithm_name == "RS256"
        }
        if not added:
            raise KeyConfigError(f"{where}: no RS256 key with a kid in the key set")
        self._by_kid.update(added)
        return set(added)

    def _refresh_soon(self) -> None:
        """A token named an unknown kid: re-read the key set URL in the background."""
        if self._client is None:
            return
        if time.monotonic() - self._refreshed_at < self._refresh_interval:
            return
        if not self._refreshing.acquire(blocking=False):
            return
        self._refreshed_at = time.monotonic()
        threading.Thread(target=self._refresh, name="jwks-refresh", daemon=True).start()

    def _refresh(self) -> None:
        try:
            assert self._client is not None
            listed = self._add_key_set(self._client.get_jwk_set(refresh=True), "JWT_JWKS_URL")
            for kid in self._url_kids - listed:  # withdrawn from the URL: refused from now on
                self._by_kid.pop(kid, None)
            self._url_kids = listed
            log.info("auth.jwks.refreshed")
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, KeyConfigError) as exc:
            log.warning("auth.jwks.refresh_failed", error=str(exc))
        finally:
            self._refreshing.release()


def _prepare(algorithm: str, value: str, where: str) -> Any:
    try:
        return jwt.get_algorithm_by_name(algorithm).prepare_key(value)
    except (jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise KeyConfigError(f"{where}: not a usable {algorithm} key ({exc})") from None


def _read_key_set_file(path: str) -> jwt.PyJWKSet:
    try:
        return jwt.PyJWKSet.from_json(Path(path).read_text())
    except OSError as exc:
        raise KeyConfigError(f"JWT_JWKS_FILE: cannot read {path}: {exc.strerror}") from None
    except (jwt.PyJWKSetError, jwt.InvalidKeyError, ValueError) as exc:
        raise KeyConfigError(f"JWT_JWKS_FILE: not a usable key set: {exc}") from None
