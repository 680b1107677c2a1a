"""Integration events and their JSON envelope (docs/architecture.md section 6).

Body on the bus::

    {"id": "<uuid>", "type": "subscription.canceled", "schema_version": 1,
     "occurred_at": "2026-01-31T12:00:00Z", "tenant_id": "...",
     "source": "webhooks", "causation_id": "evt_...", "data": {...}}

``data`` holds the fields a subclass adds: strings, ints, bools, enums (as
their value), datetimes (RFC 3339, UTC), ``None`` and tuples of these (``tuple[str, ...]``,
a JSON array). Decoding is strict about
types and lenient about unknown ``data`` keys (the contract only grows by
adding); a field with a default may be missing.
"""

from __future__ import annotations

import dataclasses
import types
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Self, TypeVar

from billing_domain.clock import Clock
from billing_domain.errors import RuleViolated
from billing_domain.timestamps import ensure_utc, parse_rfc3339, to_rfc3339

ROUTING_PREFIX = "billing."
_HEADER_FIELDS = ("id", "occurred_at", "tenant_id", "source", "causation_id")


@dataclass(frozen=True, kw_only=True)
class IntegrationEvent:
    """Base of the events other services rely on; subclasses set ``type``."""

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    id: uuid.UUID
    occurred_at: datetime
    tenant_id: str
    source: str
    """The publishing service: ``checkout``, ``subscriptions`` or ``webhooks``."""
    causation_id: str
    """The Stripe event id (or the request id) that caused this event."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                object.__setattr__(self, f.name, ensure_utc(value, name=f.name))

    @property
    def routing_key(self) -> str:
        return ROUTING_PREFIX + self.type

    def data(self) -> dict[str, object]:
        """The ``data`` object of the envelope: every field but the header."""
        return {
            f.name: _encode(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in _HEADER_FIELDS
        }

    def to_envelope(self) -> dict[str, object]:
        """The JSON-ready message body of the contract."""
        return {
            "id": str(self.id),
            "type": self.type,
            "schema_version": self.schema_version,
            "occurred_at": to_rfc3339(self.occurred_at),
            "tenant_id": self.tenant_id,
            "source": self.source,
            "causation_id": self.causation_id,
            "data": self.data(),
        }

    @classmethod
    def from_envelope(cls, body: Mapping[str, object]) -> Self:
        """Decode a body of exactly this event type (see ``events.event_from_envelope``)."""
        if body.get("type") != cls.type:
            raise RuleViolated(
                f"expected an event of type {cls.type!r}, got {body.get('type')!r}",
                code="unknown_event_type",
            )
        version = body.get("schema_version")
        if isinstance(version, bool) or version != cls.schema_version:
            raise RuleViolated(
                f"{cls.type}: unsupported schema_version {version!r} "
                f"(this consumer reads {cls.schema_version})",
                code="unsupported_schema_version",
            )
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise RuleViolated(f"{cls.type}: 'data' must be an object", code="bad_event")
        hints = _field_types(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            source, where = (body, f.name) if f.name in _HEADER_FIELDS else (data, f"data.{f.name}")
            if f.name not in source:
                if _has_default(f):
                    continue
                raise RuleViolated(f"{cls.type}: {where} is missing", code="bad_event")
            values[f.name] = _decode(source[f.name], hints[f.name], f"{cls.type}: {where}")
        return cls(**values)


E = TypeVar("E", bound=IntegrationEvent)


def new_event(
    cls: type[E],
    *,
    tenant_id: str,
    source: str,
    causation_id: str,
    clock: Clock,
    **data: Any,
) -> E:
    """Build an event with a fresh id (uuid4) and ``occurred_at`` from the clock."""
    return cls(
        id=uuid.uuid4(),
        occurred_at=clock.now(),
        tenant_id=tenant_id,
        source=source,
        causation_id=causation_id,
        **data,
    )


def _has_default(f: dataclasses.Field[Any]) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


_HINTS: dict[type[IntegrationEvent], dict[str, Any]] = {}


def _field_types(cls: type[IntegrationEvent]) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return to_rfc3339(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: object, tp: Any, where: str) -> object:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        members = typing.get_args(tp)
        if value is None and type(None) in members:
            return None
        (inner,) = (m for m in members if m is not type(None))
        return _decode(value, inner, where)
    if typing.get_origin(tp) is tuple:
        (item_type, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise _ill_typed(where, "an array", value)
        return tuple(_decode(item, item_type, f"{where}[{i}]") for i, item in enumerate(value))
    if tp is datetime:
        if not isinstance(value, str):
            raise _ill_typed(where, "an RFC 3339 string", value)
        return parse_rfc3339(value, name=where)
    if tp is uuid.UUID:
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                pass
        raise _ill_typed(where, "a UUID string", value)
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in tp)
            raise RuleViolated(
                f"{where} must be one of: {allowed}; got {value!r}", code="bad_event"
            ) from None
    if tp is bool:
        if not isinstance(value, bool):
            raise _ill_typed(where, "a boolean", value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _ill_typed(where, "an integer", value)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _ill_typed(where, "a string", value)
        return value
    raise TypeError(f"{where}: no envelope codec for {tp!r}")  # a programming error


def _ill_typed(where: str, expected: str, value: object) -> RuleViolated:
    return RuleViolated(
        f"{where} must be {expected}, got {type(value).__name__} {value!r}"[:300],
        code="bad_event",
    )
