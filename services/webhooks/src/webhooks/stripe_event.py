"""The envelope of a Stripe event, checked at the door.

Only what the request path needs: the body must be a JSON object shaped like
a Stripe event (``id`` starting ``evt_``, a ``type``, ``created``,
``data.object``). Everything else about the payload is read later, by the
worker, in ``translate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from billing_platform.stripe_reading import tenant_named_by

from webhooks.ports import NewStripeEvent

MAX_ID_LENGTH = 255


class MalformedEvent(Exception):  # noqa: N818 - a rejection, not a bug
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, kw_only=True)
class StripeEventHeader:
    event_id: str
    event_type: str
    created: datetime
    api_version: str | None
    livemode: bool
    tenant_hint: str | None


def parse_event(payload: bytes) -> tuple[StripeEventHeader, dict[str, Any]]:
    """The event's header fields and the whole decoded body; ``MalformedEvent`` otherwise."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MalformedEvent(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise MalformedEvent("the body is not a JSON object")
    if b"\\u0000" in payload and _holds_nul(body):
        raise MalformedEvent("a string holds U+0000, which cannot be stored")
    event_id = body.get("id")
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        raise MalformedEvent("id must be a string starting with evt_")
    if len(event_id) > MAX_ID_LENGTH:
        raise MalformedEvent("id is too long")
    event_type = body.get("type")
    if not isinstance(event_type, str) or not event_type or len(event_type) > MAX_ID_LENGTH:
        raise MalformedEvent("type must be a non-empty string")
    created = body.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or not 0 < created < 2**34:
        raise MalformedEvent("created must be a unix timestamp")
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("data.object must be an object")
    api_version = body.get("api_version")
    header = StripeEventHeader(
        event_id=event_id,
        event_type=event_type,
        created=datetime.fromtimestamp(created, UTC),
        api_version=api_version if isinstance(api_version, str) else None,
        livemode=body.get("livemode") is True,
        tenant_hint=_tenant_hint(data["object"]),
    )
    return header, body


def new_stripe_event(payload: bytes) -> NewStripeEvent:
    """What ingest stores of a Stripe event body; ``MalformedEvent`` when it is not one."""
    header, _ = parse_event(payload)
    return NewStripeEvent(
        event_id=header.event_id,
        event_type=header.event_type,
        tenant_id=header.tenant_hint,
        api_version=header.api_version,
        livemode=header.livemode,
        stripe_created_at=header.created,
        payload=payload,
    )


def _holds_nul(body: Any) -> bool:
    """Whether a key or string anywhere in ``body`` holds U+0000 (jsonb refuses it)."""
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _tenant_hint(obj: dict[str, Any]) -> str | None:
    """The tenant named on the object itself, when it says (for operators' filters)."""
    tenant = tenant_named_by(obj)
    return tenant[:MAX_ID_LENGTH] if tenant else None
