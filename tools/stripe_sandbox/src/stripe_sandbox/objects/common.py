"""Pieces shared by several Stripe objects."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


def null_address() -> JSON:
    return {
        "city": None,
        "country": None,
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }


def empty_billing_details() -> JSON:
    return {
        "address": null_address(),
        "email": None,
        "name": None,
        "phone": None,
        "tax_id": None,
    }


def list_object(data: list[JSON], url: str, *, has_more: bool = False) -> JSON:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def search_result(data: list[JSON], url: str) -> JSON:
    return {
        "object": "search_result",
        "data": data,
        "has_more": False,
        "next_page": None,
        "url": url,
        "total_count": len(data),
    }


def automatic_tax_disabled() -> JSON:
    return {"enabled": False, "liability": None, "disabled_reason": None}
