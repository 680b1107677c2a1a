"""Record Stripe events for state changes; the webhook dispatcher delivers them."""

from __future__ import annotations

import copy
from contextvars import ContextVar
from typing import Any

from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.event import event
from stripe_sandbox.state import State

# Set per API request so events carry ``request.id`` / ``request.idempotency_key``.
current_request: ContextVar[tuple[str | None, str | None]] = ContextVar(
    "current_request", default=(None, None)
)


def matching_endpoints(state: State, event_type: str) -> list[JSON]:
    return [
        endpoint
        for endpoint in state.all("_webhook")
        if "*" in endpoint["enabled_events"] or event_type in endpoint["enabled_events"]
    ]


def emit(
    state: State,
    event_type: str,
    obj: JSON,
    *,
    previous: JSON | None = None,
    at: int | None = None,
) -> JSON:
    """Store an event holding a snapshot of ``obj``; ``previous`` is the object before.

    As on Stripe, only ``*.updated`` events carry ``data.previous_attributes``.
    """
    request_id, idempotency_key = current_request.get()
    # a detached payment method names the customer it left there too
    updated = (
        event_type.endswith(".updated") or event_type == "payment_method.detached"
    ) and previous is not None
    previous_attributes = diff(previous, obj) if updated and previous is not None else None
    evt = event(
        id=new_id("evt_"),
        created=at if at is not None else state.now(),
        type=event_type,
        data_object=copy.deepcopy(obj),
        previous_attributes=previous_attributes,
        api_version=state.api_version,
        request_id=request_id,
        idempotency_key=idempotency_key,
        pending_webhooks=len(matching_endpoints(state, event_type)),
    )
    if not state.muted:
        state.put("event", evt)
        state.new_events.append(evt["id"])
    return evt


def diff(before: JSON, after: JSON) -> dict[str, Any]:
    """Stripe's ``previous_attributes``: old values of what changed, nested hashes narrowed."""
    changed: dict[str, Any] = {}
    for key, old in before.items():
        if key in ("object", "id") or key not in after or after[key] == old:
            continue
        new = after[key]
        if isinstance(old, dict) and isinstance(new, dict) and key != "metadata":
            changed[key] = diff(old, new)
        else:
            changed[key] = copy.deepcopy(old)
    return changed
