"""Reading values out of Stripe objects (current API shape), tolerant of expansion.

A field that may be an id or an expanded object (``customer``,
``subscription``, ``price`` ...) is read with ``ref_id``. Period dates are on
subscription items in the current API (``items.data[].current_period_end``),
with the subscription-level field as a fallback for older API versions; an
invoice names its subscription under ``parent.subscription_details``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from billing_domain.errors import RuleViolated
from billing_domain.plans import PlanType, parse_plan
from billing_domain.timestamps import from_unix


def ref_id(value: Any) -> str | None:
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


def metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, Mapping) else {}


def first_item(subscription: Mapping[str, Any]) -> Mapping[str, Any]:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        return data[0]
    return {}


def period_end(subscription: Mapping[str, Any]) -> datetime | None:
    return timestamp(first_item(subscription), "current_period_end") or timestamp(
        subscription, "current_period_end"
    )


def invoice_subscription(invoice: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """The invoice's subscription id and that subscription's metadata, where Stripe says."""
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, Mapping) else None
    if isinstance(details, Mapping):
        found = ref_id(details.get("subscription"))
        if found:
            return found, metadata(details)
    # Before 2025-03-31.basil an invoice named it at the top level; kept for events
    # stored or replayed from endpoints of older API versions.
    return ref_id(invoice.get("subscription")), {}


class PlanCatalog:
    """Which plan a Stripe price stands for: configured ids, then lookup key, then metadata."""

    def __init__(self, price_ids: Mapping[str, str]) -> None:
        self._by_price = {price: parse_plan(plan) for plan, price in price_ids.items()}

    def plan_of_price(self, price: Any) -> PlanType:
        price_id = ref_id(price)
        if price_id in self._by_price:
            return self._by_price[price_id]
        if isinstance(price, Mapping):
            lookup_key = text(price, "lookup_key")
            if lookup_key:
                candidate = lookup_key.split("_", 1)[0]
                if candidate in {p.value for p in PlanType}:
                    return parse_plan(candidate)
            plan = text(metadata(price), "plan")
            if plan:
                return parse_plan(plan)
        raise RuleViolated(f"price {price_id!r} is not one of our plans", code="unknown_price")

    def plan_of_subscription(self, subscription: Mapping[str, Any]) -> PlanType:
        item = first_item(subscription)
        return self.plan_of_price(item.get("price") or item.get("plan"))
