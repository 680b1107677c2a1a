"""Bearer JWT authentication (PyJWT) producing the domain's ``Principal``.

Algorithms are pinned by the configured keys (``jwt_keys``): HS256 with
``JWT_SECRET`` / ``JWT_SECRETS``, RS256 with ``JWT_PUBLIC_KEY`` / a JWKS; each
algorithm only ever meets its own keys, so ``alg: none`` and HS/RS confusion are
rejected, and a ``kid`` picks the key of a rotation. ``exp``, ``sub``,
``tenant_id`` and ``role`` are required; ``aud``/``iss`` are checked when
configured (``billing serve`` refuses to start without them unless
``JWT_REQUIRE_AUDIENCE`` / ``JWT_REQUIRE_ISSUER`` is ``false``). Anything wrong is
a 401 with ``WWW-Authenticate: Bearer``.

Time: an expired token is refused from its ``exp`` on, with no leeway (the
contract says expired -> 401); ``iat`` and ``nbf`` get ``CLOCK_SKEW_S`` (30 s) of
leeway for clocks that differ. With a maximum lifetime (``JWT_MAX_LIFETIME_SECONDS``,
24 h by default in the services) ``iat`` is required and ``exp - iat`` beyond it is
refused: a token without ``iat`` could live for ever, so it is refused too.

A token accepted once is remembered until its ``exp`` (``verified_tokens``), so a
client's repeated requests are verified once: every service's ``current_principal``
(and ``bearer_principal``, the same without dependency injection) goes through it.

A service started without any key answers 401; a key that cannot be parsed stops
it at start-up (``KeyConfigError``). A secret shorter than 32 bytes (RFC 7518's
minimum for HS256) is accepted, with a warning at start-up: refusing to start
would be worse than a weak key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

import jwt
import structlog
from billing_domain.auth import Principal, Role
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from billing_platform.http.errors import ApiError
from billing_platform.http.jwt_keys import (
    ALGORITHMS,
    JWKS_REFRESH_MIN_INTERVAL_S,
    JwtKeys,
    parse_keyed_secrets,
)
from billing_platform.http.verified_tokens import MAX_REMEMBERED, Verified, VerifiedTokens
from billing_platform.settings import BillingSettings

REQUIRED_CLAIMS = ["exp", "sub", "tenant_id", "role"]
LEEWAY_S = 0
"""Leeway on ``exp``: none."""
CLOCK_SKEW_S = 30
"""Leeway on ``iat`` and ``nbf`` (a token minted by a clock slightly ahead of ours)."""
RECOMMENDED_SECRET_BYTES = 32

log = structlog.get_logger("billing_platform.auth")


class JwtVerifier:
    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        secrets: dict[str, str] | None = None,
        jwks_file: str | None = None,
        jwks_url: str | None = None,
        max_lifetime_seconds: int | None = None,
        jwks_refresh_interval_s: float = JWKS_REFRESH_MIN_INTERVAL_S,
        remember: int = MAX_REMEMBERED,
        now: Callable[[], float] = time.time,
    ) -> None:
        for value in (secret, *(secrets or {}).values()):
            if value and len(value.encode()) < RECOMMENDED_SECRET_BYTES:
                log.warning(
                    "auth.jwt_secret.weak",
                    length=len(value.encode()),
                    recommended=RECOMMENDED_SECRET_BYTES,
                )
        self._keys = JwtKeys(
            secret=secret,
            secrets=secrets,
            public_key=public_key,
            jwks_file=jwks_file,
            jwks_url=jwks_url,
            jwks_refresh_interval_s=jwks_refresh_interval_s,
        )
        self._audience = audience
        self._issuer = issuer
        self._max_lifetime = max_lifetime_seconds or None
        self._required = REQUIRED_CLAIMS + (["iat"] if self._max_lifetime else [])
        self._now = now
        self._verified = VerifiedTokens(remember)

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> JwtVerifier:
        return cls(
            secret=settings.jwt_secret,
            public_key=settings.jwt_public_key,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            secrets=parse_keyed_secrets(settings.jwt_secrets or ""),
            jwks_file=settings.jwt_jwks_file,
            jwks_url=settings.jwt_jwks_url,
            max_lifetime_seconds=settings.jwt_max_lifetime_seconds,
        )

    def verify(self, token: str) -> Principal:
        """The token's principal, or a 401 ``ApiError``; remembered until its ``exp``."""
        known = self._verified.get(token, self._now())
        if known is not None:
            if self._keys.key_for(known.algorithm, known.kid) is known.key:
                return known.principal
            self._verified.forget(token)  # its key is gone: verify again (and refuse)
        verified = self._verify(token)
        self._verified.remember(token, verified)
        return verified.principal

    def _verify(self, token: str) -> Verified:
        try:
            header = jwt.get_unverified_header(token)
            algorithm, kid = header.get("alg"), header.get("kid")
            if algorithm not in ALGORITHMS or not isinstance(kid, str | None):
                raise _unauthorized("token algorithm not accepted")
            assert isinstance(algorithm, str)
            key = self._keys.key_for(algorithm, kid)
            if key is None:
                raise _unauthorized("token algorithm or key id not accepted")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=CLOCK_SKEW_S,
                options={
                    "require": self._required,
                    "verify_aud": self._audience is not None,
                    "verify_iss": self._issuer is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("token expired") from None
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"invalid token: {exc}") from None
        # PyJWT has checked that exp (and iat) are integers; its leeway is for iat/nbf.
        expires_at = int(claims["exp"])
        if expires_at <= self._now() - LEEWAY_S:
            raise _unauthorized("token expired")
        if self._max_lifetime and expires_at - int(claims["iat"]) > self._max_lifetime:
            raise _unauthorized(
                f"invalid token: lifetime (exp - iat) beyond {self._max_lifetime} s"
            )
        self._check_claims(claims)
        principal = _principal(claims)
        return Verified(principal, expires_at + LEEWAY_S, algorithm, kid, key)

    def _check_claims(self, claims: dict[str, Any]) -> None:
        """Hook for a stricter verifier: raise a 401 for verified claims it refuses."""


def any_jwt_key(settings: BillingSettings) -> bool:
    """Whether the settings configure a key to verify tokens with."""
    return any(
        (
            settings.jwt_secret,
            settings.jwt_public_key,
            settings.jwt_secrets,
            settings.jwt_jwks_file,
            settings.jwt_jwks_url,
        )
    )


def _principal(claims: dict[str, Any]) -> Principal:
    sub, tenant, role = claims["sub"], claims["tenant_id"], claims["role"]
    if not all(isinstance(value, str) and value for value in (sub, tenant, role)):
        raise _unauthorized("invalid token: sub, tenant_id and role must be non-empty strings")
    if any("\x00" in value for value in (sub, tenant, role)):
        # Postgres text cannot hold U+0000: such an id could never be stored or found.
        raise _unauthorized("invalid token: sub, tenant_id and role must not contain NUL")
    try:
        parsed_role = Role(role)
    except ValueError:
        raise _unauthorized(f"invalid token: unknown role {role!r}") from None
    raw_scope = claims.get("scope", "")
    if isinstance(raw_scope, str):
        scopes = frozenset(raw_scope.split())
    elif isinstance(raw_scope, list) and all(isinstance(s, str) for s in raw_scope):
        scopes = frozenset(raw_scope)
    else:
        raise _unauthorized("invalid token: scope must be a string or a list of strings")
    return Principal(user_id=sub, tenant_id=tenant, role=parsed_role, scopes=scopes)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="JWT signed with JWT_SECRET (HS256) or RS256")


def bearer_principal(request: Request) -> Principal:
    """The caller named by the request's ``Authorization: Bearer`` header, or 401.

    ``current_principal`` without dependency injection, for a hot path that skips it.
    """
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing bearer token")
    return _verified_principal(request, token.strip())


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the authenticated caller, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    return _verified_principal(request, credentials.credentials)


def _verified_principal(request: Request, token: str) -> Principal:
    verifier: JwtVerifier | None = getattr(request.app.state, "jwt_verifier", None)
    if verifier is None:
        raise _unauthorized("no token can be verified: JWT_SECRET or JWT_PUBLIC_KEY is not set")
    principal = verifier.verify(token)
    structlog.contextvars.bind_contextvars(tenant_id=principal.tenant_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
