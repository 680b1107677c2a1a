"""A Stripe price -> the plan and billing interval it stands for.

The precedence (configured ids, lookup key, metadata) is the domain's
``plan_from_price``; this module reads the fields and remembers what it learned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from billing_domain.errors import RuleViolated
from billing_domain.plans import PlanType, parse_plan
from billing_domain.stripe_rules import plan_from_price

from billing_platform.stripe_reading.fields import id_of, integer, mapping, metadata, text


@dataclass(frozen=True, kw_only=True)
class PriceReading:
    price_id: str
    plan: PlanType
    interval: str
    interval_count: int
    amount: int
    currency: str
    name: str | None
    """The product's name when expanded, else the price's nickname."""


class PriceCatalog:
    """Plan <-> Stripe price: the configured ids (``{"solo": "price_..."}``), plus every
    price read whole since (schedule phases name prices by id only)."""

    def __init__(self, price_ids: Mapping[str, str]) -> None:
        self._plan_by_price = {price: parse_plan(plan) for plan, price in price_ids.items()}
        self._price_by_plan = {plan: price for price, plan in self._plan_by_price.items()}

    def configured_price(self, plan: PlanType) -> str | None:
        return self._price_by_plan.get(plan)

    def remember(self, plan: PlanType, price_id: str) -> None:
        self._price_by_plan.setdefault(plan, price_id)
        self._plan_by_price.setdefault(price_id, plan)

    def knows(self, price_id: str) -> bool:
        return price_id in self._plan_by_price

    def plan_of(self, price: Any) -> PlanType:
        """The plan of a price (an id, or the object); ``RuleViolated(unknown_price)``."""
        price_id = id_of(price)
        obj: Mapping[str, Any] = price if isinstance(price, Mapping) else {}
        plan = plan_from_price(
            price_id=price_id,
            lookup_key=text(obj, "lookup_key"),
            metadata_plan=text(metadata(obj), "plan"),
            configured=self._plan_by_price,
        )
        if price_id is not None and obj:
            self._plan_by_price.setdefault(price_id, plan)
        return plan

    def read(self, price: Mapping[str, Any]) -> PriceReading:
        price_id = id_of(price)
        if price_id is None:
            raise RuleViolated("price without id", code="unknown_price")
        recurring = mapping(price, "recurring")
        product = price.get("product")
        name = text(product, "name") if isinstance(product, Mapping) else None
        return PriceReading(
            price_id=price_id,
            plan=self.plan_of(price),
            interval=text(recurring, "interval") or "month",
            interval_count=integer(recurring, "interval_count", 1),
            amount=integer(price, "unit_amount"),
            currency=text(price, "currency") or "usd",
            name=name or text(price, "nickname"),
        )
