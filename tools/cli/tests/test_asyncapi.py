"""docs/asyncapi.yaml cannot drift from the event dataclasses (billing_domain.events).

The document is generated here from EVENT_TYPES (fields through dataclasses.fields
and their type hints), the publishers of docs/events.md and the consumers' real
binding keys. After changing an event, rewrite it with:

    ASYNCAPI_WRITE=1 uv run pytest tools/cli/tests/test_asyncapi.py
"""

import dataclasses
import os
import re
import types
import typing
import uuid
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

import analytics.consumer
import checkout.consumer
import notifications.consumer
import pytest
import subscriptions.consumer
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lockfile
from billing_domain.envelope import IntegrationEvent
from billing_domain.event_publishers import PUBLISHED
from billing_domain.events import EVENT_TYPES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
DOCUMENT = ROOT / "docs" / "asyncapi.yaml"
HEADER = ("id", "occurred_at", "tenant_id", "source", "causation_id")

# docs/events.md: one type, one publisher (what consumers check messages against).
PUBLISHERS = PUBLISHED
CONSUMERS = {
    "subscriptions": (subscriptions.consumer.QUEUE, subscriptions.consumer.BINDING_KEYS),
    "checkout": (checkout.consumer.QUEUE, checkout.consumer.BINDING_KEYS),
    "analytics": (analytics.consumer.QUEUE, analytics.consumer.BINDING_KEYS),
    "notifications": (notifications.consumer.QUEUE, notifications.consumer.BINDING_KEYS),
}


def topic_matches(pattern: str, key: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", r"[^.]+").replace(r"\#", r".*")
    return re.fullmatch(regex, key) is not None


def field_schema(tp: Any) -> dict[str, Any]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        (inner,) = (m for m in typing.get_args(tp) if m is not type(None))
        schema = field_schema(inner)
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema
    if isinstance(tp, type) and issubclass(tp, Enum):
        return {"type": "string", "enum": [member.value for member in tp]}
    if typing.get_origin(tp) is tuple:
        (item, _ellipsis) = typing.get_args(tp)
        return {"type": "array", "items": field_schema(item)}
    simple = {
        str: {"type": "string"},
        bool: {"type": "boolean"},
        int: {"type": "integer"},
        datetime: {"type": "string", "format": "date-time"},
        uuid.UUID: {"type": "string", "format": "uuid"},
    }
    return dict(simple[tp])


def data_schema(cls: type[IntegrationEvent]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name not in HEADER]
    required = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    return {
        "type": "object",
        "required": required,
        "properties": {f.name: field_schema(hints[f.name]) for f in fields},
    }


def publisher_of(event_type: str) -> str:
    (service,) = (name for name, published in PUBLISHERS.items() if event_type in published)
    return service


def message(cls: type[IntegrationEvent]) -> dict[str, Any]:
    summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else cls.type
    return {
        "name": cls.type,
        "title": cls.__name__,
        "summary": summary,
        "contentType": "application/json",
        "correlationId": {"location": "$message.payload#/causation_id"},
        "bindings": {"amqp": {"messageType": cls.type, "bindingVersion": "0.3.0"}},
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/Envelope"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"const": cls.type},
                        "schema_version": {"const": cls.schema_version},
                        "source": {"const": publisher_of(cls.type)},
                        "data": data_schema(cls),
                    },
                },
            ]
        },
    }


def channel(event_type: str) -> dict[str, Any]:
    return {
        "address": f"billing.{event_type}",
        "title": f"Routing key billing.{event_type} on the billing.events exchange",
        "messages": {event_type: {"$ref": f"#/components/messages/{event_type}"}},
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {"name": "billing.events", "type": "topic", "durable": True},
                "bindingVersion": "0.3.0",
            }
        },
    }


def operations() -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for service, published in PUBLISHERS.items():
        for event_type in published:
            ops[f"{service}.publishes.{event_type}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{event_type}"},
                "summary": f"{service} publishes it from its outbox (publisher confirms).",
                "messages": [{"$ref": f"#/channels/{event_type}/messages/{event_type}"}],
            }
    for service, (queue, keys) in CONSUMERS.items():
        for event_type in EVENT_TYPES:
            if any(topic_matches(key, f"billing.{event_type}") for key in keys):
                ops[f"{service}.consumes.{event_type}"] = {
                    "action": "receive",
                    "channel": {"$ref": f"#/channels/{event_type}"},
                    "summary": f"{service} applies it once (inbox) from its queue {queue}.",
                    "messages": [{"$ref": f"#/channels/{event_type}/messages/{event_type}"}],
                }
    return ops


ENVELOPE = {
    "type": "object",
    "description": "docs/architecture.md section 6. AMQP message_id = id; persistent.",
    "required": [*HEADER, "type", "schema_version", "data"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "type": {"type": "string"},
        "schema_version": {"type": "integer"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "tenant_id": {"type": "string"},
        "source": {"type": "string", "enum": list(PUBLISHERS)},
        "causation_id": {
            "type": "string",
            "description": "The Stripe event id (or request id) behind this event.",
        },
        "data": {"type": "object"},
    },
}


def generate() -> dict[str, Any]:
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Billing events",
            "version": "1.0.0",
            "description": "Events on the durable topic exchange billing.events "
            "(BILLING_EXCHANGE), routing key billing.<type>. Generated from "
            "billing_domain.events by tools/cli/tests/test_asyncapi.py; see docs/events.md.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "rabbitmq": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}
        },
        "channels": {event_type: channel(event_type) for event_type in EVENT_TYPES},
        "operations": operations(),
        "components": {
            "schemas": {"Envelope": ENVELOPE},
            "messages": {event_type: message(cls) for event_type, cls in EVENT_TYPES.items()},
        },
    }


def test_the_document_is_what_the_dataclasses_generate() -> None:
    expected = generate()
    if os.environ.get("ASYNCAPI_WRITE") == "1":
        DOCUMENT.write_text(yaml.safe_dump(expected, sort_keys=False, width=100))
    assert yaml.safe_load(DOCUMENT.read_text()) == expected, (
        "docs/asyncapi.yaml is stale: ASYNCAPI_WRITE=1 uv run pytest "
        "tools/cli/tests/test_asyncapi.py"
    )


def test_every_event_type_has_a_message_with_exactly_its_fields() -> None:
    document = yaml.safe_load(DOCUMENT.read_text())
    messages = document["components"]["messages"]
    assert set(messages) == set(EVENT_TYPES)
    for event_type, cls in EVENT_TYPES.items():
        data = messages[event_type]["payload"]["allOf"][1]["properties"]["data"]
        names = {f.name for f in dataclasses.fields(cls)} - set(HEADER)
        assert set(data["properties"]) == names, event_type
        assert set(data["required"]) <= names


def test_one_publisher_per_type_as_docs_events_md_says() -> None:
    published = [t for types_ in PUBLISHERS.values() for t in types_]
    assert sorted(published) == sorted(EVENT_TYPES)
    events_md = (ROOT / "docs" / "events.md").read_text()
    sections = dict(re.findall(r"^## (\w+) \(source `\w+`\)(.*?)(?=^## )", events_md, re.M | re.S))
    for service, event_types in PUBLISHERS.items():
        for event_type in event_types:
            assert f"`{event_type}`" in sections[service], (service, event_type)


def test_operations_follow_the_consumers_binding_keys() -> None:
    names = set(yaml.safe_load(DOCUMENT.read_text())["operations"])
    assert "subscriptions.consumes.invoice.payment_failed" in names
    assert "checkout.consumes.subscription.activated" in names
    assert "subscriptions.consumes.subscription.activated" not in names  # its own
    for service, published in PUBLISHERS.items():  # no service consumes what it publishes
        assert not {f"{service}.consumes.{event_type}" for event_type in published} & names
