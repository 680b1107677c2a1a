"""Bearer JWT authentication (PyJWT) producing the domain's ``Principal``.

Algorithms are pinned by the configured key: HS256 with ``JWT_SECRET``,
RS256 with ``JWT_PUBLIC_KEY``; each algorithm only ever meets its own key, so
``alg: none`` and HS/RS confusion are rejected. ``exp``, ``sub``,
``tenant_id`` and ``role`` are required; ``aud``/``iss`` are checked when
configured. Anything wrong is a 401 with ``WWW-Authenticate: Bearer``. An
expired token is refused from its ``exp`` on, with no leeway (the contract says
expired -> 401). A service started without either key answers 401 too.
A secret shorter than 32 bytes (RFC 7518's minimum for HS256) is accepted, with
a warning at start-up: refusing to start would be worse than a weak key.
"""

from __future__ import annotations

from typing import Annotated, Any

import jwt
import structlog
from billing_domain.auth import Principal, Role
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from billing_platform.http.errors import ApiError
from billing_platform.settings import BillingSettings

REQUIRED_CLAIMS = ["exp", "sub", "tenant_id", "role"]
LEEWAY_S = 0
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
    ) -> None:
        self._keys: dict[str, str] = {}
        if secret:
            self._keys["HS256"] = secret
            if len(secret.encode()) < RECOMMENDED_SECRET_BYTES:
                log.warning(
                    "auth.jwt_secret.weak",
                    length=len(secret.encode()),
                    recommended=RECOMMENDED_SECRET_BYTES,
                )
        if public_key:
            self._keys["RS256"] = public_key
        if not self._keys:
            raise ValueError("JWT_SECRET or JWT_PUBLIC_KEY must be set")
        self._audience = audience
        self._issuer = issuer

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> JwtVerifier:
        return cls(
            secret=settings.jwt_secret,
            public_key=settings.jwt_public_key,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )

    def verify(self, token: str) -> Principal:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            key = self._keys.get(algorithm) if isinstance(algorithm, str) else None
            if key is None or not isinstance(algorithm, str):
                raise _unauthorized("token algorithm not accepted")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_S,
                options={
                    "require": REQUIRED_CLAIMS,
                    "verify_aud": self._audience is not None,
                    "verify_iss": self._issuer is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized("token expired") from None
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"invalid token: {exc}") from None
        return _principal(claims)


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


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the authenticated caller, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    verifier: JwtVerifier | None = getattr(request.app.state, "jwt_verifier", None)
    if verifier is None:
        raise _unauthorized("no token can be verified: JWT_SECRET or JWT_PUBLIC_KEY is not set")
    principal = verifier.verify(credentials.credentials)
    structlog.contextvars.bind_contextvars(tenant_id=principal.tenant_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
