"""Signed one-click unsubscribe tokens (HMAC-SHA256 over tenant, kind, expiry, nonce).

``<payload>.<signature>``, both base64url: the payload is
``{"t": tenant_id, "k": kind, "exp": unix seconds, "n": nonce}``. The nonce is the
token's id: the unsubscribe ledger lets each token work once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime

from notifications.kinds import OPTIONAL_KINDS, MailKind

MAX_TOKEN_LENGTH = 1024


class InvalidToken(Exception):  # noqa: N818
    """Forged, altered, malformed, or for a kind that cannot be switched off."""


class ExpiredToken(Exception):  # noqa: N818
    pass


@dataclass(frozen=True, kw_only=True)
class UnsubscribeClaim:
    tenant_id: str
    kind: MailKind
    token_id: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def issue(
    *, tenant_id: str, kind: MailKind, secret: bytes, expires_at: datetime, nonce: str | None = None
) -> str:
    body = {"t": tenant_id, "k": kind.value, "exp": int(expires_at.timestamp())}
    body["n"] = nonce or secrets.token_urlsafe(12)
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_sign(payload, secret)}"


def verify(token: str, *, secret: bytes, now: datetime) -> UnsubscribeClaim:
    # base64url only: compare_digest refuses non-ASCII text (a TypeError, a 500 before).
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1 or not token.isascii():
        raise InvalidToken("malformed token")
    payload, signature = token.split(".")
    if not hmac.compare_digest(_sign(payload, secret), signature):
        raise InvalidToken("bad signature")
    try:
        body = json.loads(_unb64(payload))
    except (ValueError, binascii.Error) as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(body, dict):
        raise InvalidToken("malformed token")
    tenant, kind, exp, nonce = body.get("t"), body.get("k"), body.get("exp"), body.get("n")
    if not (isinstance(tenant, str) and isinstance(exp, int) and isinstance(nonce, str)):
        raise InvalidToken("malformed token")
    if kind not in {k.value for k in OPTIONAL_KINDS}:
        raise InvalidToken("this kind of email cannot be switched off")
    if exp <= now.timestamp():
        raise ExpiredToken("the link has expired")
    return UnsubscribeClaim(tenant_id=tenant, kind=MailKind(kind), token_id=nonce)
