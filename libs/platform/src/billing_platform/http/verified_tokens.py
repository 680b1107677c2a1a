"""Tokens the verifier has accepted, remembered until they expire (``JwtVerifier``'s memory).

A browser sends the same bearer token with every request until it expires;
verifying it (PyJWT: header, signature, claims) costs more than the read it
guards. So ``JwtVerifier.verify`` remembers the principal of a token it has
accepted, keyed by the token string, and answers again from here while:

- the clock is before the token's ``exp`` (the verifier refuses from ``exp`` on,
  no leeway), and
- the key that verified it is still the key the token's header picks (the same
  object from ``JwtKeys``), so a key dropped from the configuration or key set is
  not outlived by a remembered token.

Audience, issuer, lifetime and ``nbf`` do not change while a token is remembered:
they are fixed per verifier, and a token accepted once stays acceptable until its
``exp``. A refused token is never remembered. The memory is bounded: when full,
the oldest entry goes first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from billing_domain.auth import Principal

MAX_REMEMBERED = 50_000


@dataclass(frozen=True, slots=True)
class Verified:
    principal: Principal
    expires_at: int
    """The token's ``exp`` (an int: PyJWT checked it; may exceed any float)."""
    algorithm: str
    kid: str | None
    key: Any
    """The key object that verified the signature (identity compared)."""


class VerifiedTokens:
    def __init__(self, max_entries: int = MAX_REMEMBERED) -> None:
        self._max_entries = max_entries
        self._known: OrderedDict[str, Verified] = OrderedDict()

    def __len__(self) -> int:
        return len(self._known)

    def get(self, token: str, now: float) -> Verified | None:
        """The remembered entry, or ``None`` (an expired one is forgotten)."""
        known = self._known.get(token)
        if known is None:
            return None
        if now < known.expires_at:
            return known
        del self._known[token]
        return None

    def forget(self, token: str) -> None:
        self._known.pop(token, None)

    def remember(self, token: str, verified: Verified) -> None:
        if self._max_entries <= 0:
            return
        while len(self._known) >= self._max_entries:
            self._known.popitem(last=False)
        self._known[token] = verified
