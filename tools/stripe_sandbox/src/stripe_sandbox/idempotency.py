"""``Idempotency-Key`` as Stripe keeps it (docs: "Idempotent requests", "Advanced error
handling").

- A POST that ran (whatever its answer, 200, 402 or a 400 raised while running) is
  stored under its key with a fingerprint of its method, path and parameters; the
  same key with the same request replays the stored answer
  (``Idempotent-Replayed: true``).
- The same key with other parameters or another endpoint: 400 ``idempotency_error``
  (a type, no code).
- A request refused before it ran (authentication, version, parameters) is not
  stored: fixing it and sending it again under the same key runs it.
- A key is kept 24 hours of sandbox time (``State.now``, moved by the clock
  controls), then forgotten.
- A second request with a key whose first request is still running: 409
  ``idempotency_key_in_use``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from stripe_sandbox.errors import StripeError
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.state import State

KIND = "_idempotency"
KEPT_SECONDS = 24 * 3600


def fingerprint(method: str, path: str, params: Mapping[str, Any]) -> str:
    """The request a key was first used for (parameter order does not matter)."""
    canonical = json.dumps([method, path, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(state: State, key: str, request_hash: str) -> dict[str, Any] | None:
    """The stored answer for ``key``; None when the key is new or expired.

    Raises Stripe's ``idempotency_error`` when the key was used for another request."""
    stored = state.get(KIND, key)
    if stored is None:
        return None
    if _expired(state, stored):
        state.remove(KIND, key)
        return None
    if stored["fingerprint"] != request_hash:
        raise StripeError(
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request.",
            type_="idempotency_error",
        )
    return stored


def store(state: State, key: str, request_hash: str, status: int, body: JSON) -> None:
    """Keep the answer; keys past their 24 hours are dropped, not kept forever."""
    for old in state.all(KIND):
        if _expired(state, old):
            state.remove(KIND, old["id"])
    state.put(
        KIND,
        {
            "id": key,
            "fingerprint": request_hash,
            "status": status,
            "body": body,
            "created": state.now(),
        },
    )


def _expired(state: State, stored: dict[str, Any]) -> bool:
    return state.now() - int(stored.get("created", 0)) >= KEPT_SECONDS


def in_use() -> StripeError:
    return StripeError(
        "There is currently another in-progress request using this idempotency key. "
        "Retry your request after some time.",
        status=409,
        code="idempotency_key_in_use",
    )
