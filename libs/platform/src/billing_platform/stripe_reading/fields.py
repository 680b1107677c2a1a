"""Reading single fields out of Stripe objects (plain dicts), tolerant of expansion.

A field that may be an id or an expanded object (``customer``, ``subscription``,
``price`` ...) is read with ``id_of``. Missing, empty or mistyped fields read as
``None`` (or the default): what to do about them is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from billing_domain.timestamps import from_unix


def id_of(value: Any) -> str | None:
    """The id of a field that is either an id string or an expanded object."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping):
        inner = value.get("id")
        return inner if isinstance(inner, str) and inner else None
    return None


def text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def integer(obj: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def timestamp(obj: Mapping[str, Any], key: str) -> datetime | None:
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return from_unix(value)
    return None


def mapping(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, Mapping) else {}


def metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(obj, "metadata")


def listed(obj: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The objects of a list field, or of a Stripe list object (``{"data": [...]}``)."""
    value = obj.get(key)
    if isinstance(value, Mapping):
        value = value.get("data")
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, Mapping)]


def customer_tenant(customer: Mapping[str, Any]) -> str | None:
    """The tenant a Stripe customer names (``metadata.tenant_id``, set by checkout)."""
    return text(metadata(customer), "tenant_id")
