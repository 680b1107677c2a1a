"""Remembering verified bearer tokens, so a token is checked once, not on every read.

A browser sends the same token with every request until it expires; verifying
it (PyJWT: header, signature, claims) costs more than the projection read it
guards. The platform's ``JwtVerifier`` still decides everything: a token is
remembered only after it passed, and only until the moment the verifier
itself would start refusing it (``exp`` plus the verifier's leeway).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable

from billing_domain.auth import Principal
from billing_platform.http.auth import LEEWAY_S, JwtVerifier

MAX_ENTRIES = 50_000


class VerifiedTokens:
    def __init__(
        self,
        verifier: JwtVerifier,
        *,
        max_entries: int = MAX_ENTRIES,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._verifier = verifier
        self._max_entries = max_entries
        self._now = now
        self._known: dict[str, tuple[Principal, float]] = {}

    def principal(self, token: str) -> Principal:
        """The token's principal; raises the verifier's 401 for a bad or expired token."""
        known = self._known.get(token)
        if known is not None:
            if self._now() <= known[1]:
                return known[0]
            del self._known[token]
        principal = self._verifier.verify(token)
        expires = _expiry(token)
        if expires is not None:
            if len(self._known) >= self._max_entries:
                self._known.clear()
            self._known[token] = (principal, expires + LEEWAY_S)
        return principal


def _expiry(token: str) -> float | None:
    """``exp`` of a token the verifier has just accepted (so its payload is sound)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        return float(exp)
    except OverflowError:  # an int beyond any float: verify such a token every time
        return None
