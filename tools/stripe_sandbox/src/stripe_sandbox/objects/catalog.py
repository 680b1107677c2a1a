"""product, price and the legacy plan view of a price."""

from __future__ import annotations

from stripe_sandbox.objects.common import JSON


def product(
    *,
    id: str,
    created: int,
    name: str,
    description: str | None,
    metadata: dict[str, str],
    active: bool = True,
    default_price: str | None = None,
) -> JSON:
    return {
        "id": id,
        "object": "product",
        "active": active,
        "created": created,
        "default_price": default_price,
        "description": description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata,
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": created,
        "url": None,
    }


def price(
    *,
    id: str,
    created: int,
    product: str,
    currency: str,
    unit_amount: int,
    interval: str | None,
    interval_count: int,
    trial_period_days: int | None,
    lookup_key: str | None,
    nickname: str | None,
    metadata: dict[str, str],
    active: bool = True,
) -> JSON:
    recurring = (
        {
            "interval": interval,
            "interval_count": interval_count,
            "meter": None,
            "trial_period_days": trial_period_days,
            "usage_type": "licensed",
        }
        if interval
        else None
    )
    return {
        "id": id,
        "object": "price",
        "active": active,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata,
        "nickname": nickname,
        "product": product,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if interval else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def plan_of(price: JSON) -> JSON:
    recurring = price["recurring"] or {}
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring.get("interval", "month"),
        "interval_count": recurring.get("interval_count", 1),
        "livemode": False,
        "metadata": price["metadata"],
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": "licensed",
    }
