"""Verifying ``Stripe-Signature`` exactly as Stripe signs.

Header: ``t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]``. Signed payload:
``f"{t}.{raw body}"``, HMAC-SHA256 with the endpoint secret. Valid when any
``v1`` matches any configured secret (rotation: ``STRIPE_WEBHOOK_SECRET`` holds
several) and ``t`` is within the tolerance (300 s) of now, in either direction.

Written here with the standard library rather than calling
``stripe.Webhook.construct_event`` (about 1 ms of CPU: it builds the whole
event object tree) so that each rejection has its own error code and the
request path stays cheap; the tests check it against the SDK's own verifier.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

TOLERANCE_S = 300
MAX_HEADER_LENGTH = 4096
_V1 = re.compile(r"[0-9a-f]{64}")  # HMAC-SHA256 as Stripe writes it: 64 lower-case hex digits


class SignatureRejected(Exception):  # noqa: N818 - a rejection, not a bug
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VerifiedSignature:
    timestamp: int
    secret_index: int  # which configured secret matched (0 = the newest)


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``v1`` signature Stripe computes (also what the sandbox and tests send)."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    payload: bytes, header: str | None, secrets: Sequence[str], *, now: float
) -> VerifiedSignature:
    if not secrets:
        raise SignatureRejected("webhook_secret_missing", "no webhook secret is configured")
    if header is None or not header.strip():
        raise SignatureRejected("missing_signature", "the Stripe-Signature header is missing")
    timestamp, candidates = _parse_header(header)
    if abs(now - timestamp) > TOLERANCE_S:
        raise SignatureRejected(
            "timestamp_out_of_tolerance",
            f"the signature timestamp is more than {TOLERANCE_S} s from now",
        )
    for index, secret in enumerate(secrets):
        expected = sign(payload, secret, timestamp)
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return VerifiedSignature(timestamp=timestamp, secret_index=index)
    raise SignatureRejected("invalid_signature", "no signature matches the payload")


def _parse_header(header: str) -> tuple[int, list[str]]:
    if len(header) > MAX_HEADER_LENGTH:
        raise SignatureRejected("malformed_signature", "the Stripe-Signature header is too long")
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise SignatureRejected("malformed_signature", "Stripe-Signature items are key=value")
        if key == "t":
            if not (value.isascii() and value.isdigit()) or len(value) > 12:
                raise SignatureRejected("malformed_signature", "the timestamp t= is not a number")
            timestamp = int(value)
        elif key == "v1" and _V1.fullmatch(value):
            # A v1 of anything but 64 hex digits could never match (and compare_digest
            # refuses a non-ASCII str): skipped, as Stripe skips one that matches nothing.
            candidates.append(value)
    if timestamp is None:
        raise SignatureRejected("malformed_signature", "the Stripe-Signature header has no t=")
    if not candidates:
        raise SignatureRejected(
            "malformed_signature", "the Stripe-Signature header has no v1= of 64 hex digits"
        )
    return timestamp, candidates
