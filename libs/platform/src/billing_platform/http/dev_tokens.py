"""Tokens ``billing dev`` mints are good for ``billing dev`` only.

``billing dev``'s sign-in (``POST /dev/token``) mints any role for any tenant; when
``JWT_SECRET`` comes from the environment it signs with the same key as the real
services. So every token it mints carries ``iss: billing-dev`` (``DEV_ISSUER``), and
the verifier every service is built with (``create_app``) refuses that issuer,
whatever else is configured; only ``billing dev`` swaps in a plain ``JwtVerifier``.
"""

from __future__ import annotations

from typing import Any

from billing_platform.http.auth import JwtVerifier
from billing_platform.http.errors import ApiError

DEV_ISSUER = "billing-dev"


class NoDevTokensVerifier(JwtVerifier):
    """A ``JwtVerifier`` that also refuses what ``billing dev`` minted (401)."""

    def _check_claims(self, claims: dict[str, Any]) -> None:
        if minted_by_billing_dev(claims):
            raise ApiError(
                401,
                "unauthorized",
                "invalid token: minted by billing dev",
                {"WWW-Authenticate": "Bearer"},
            )


def minted_by_billing_dev(claims: dict[str, Any]) -> bool:
    """Of claims whose signature ``JwtVerifier`` has checked."""
    return bool(claims.get("iss") == DEV_ISSUER)
