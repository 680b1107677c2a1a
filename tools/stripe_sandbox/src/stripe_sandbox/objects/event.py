"""event and webhook_endpoint objects."""

from __future__ import annotations

from typing import Any

from stripe_sandbox.objects.common import JSON


def event(
    *,
    id: str,
    created: int,
    type: str,
    data_object: JSON,
    previous_attributes: dict[str, Any] | None,
    api_version: str,
    request_id: str | None,
    idempotency_key: str | None,
    pending_webhooks: int,
) -> JSON:
    data: JSON = {"object": data_object}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": id,
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }


def webhook_endpoint(
    *, id: str, created: int, url: str, enabled_events: list[str], api_version: str
) -> JSON:
    return {
        "id": id,
        "object": "webhook_endpoint",
        "api_version": api_version,
        "application": None,
        "created": created,
        "description": None,
        "enabled_events": enabled_events,
        "livemode": False,
        "metadata": {},
        "status": "enabled",
        "url": url,
    }
