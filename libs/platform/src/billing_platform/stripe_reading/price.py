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
    """What a price costs and how often (its plan is ``PriceCatalog.plan_of``)."""

    price_id: str
    interval: str
    interval_count: int
    amount: int
    currency: str
    name: str | None
    """The product's name when expanded, else the price's nickname."""
    lookup_key: str | None


def read_price(price: Mapping[str, Any]) -> PriceReading:
    price_id = id_of(price)
    if price_id is None:
        raise RuleViolated("price without id", code="unknown_price")
    recurring = mapping(price, "recurring")
    product = price.get("product")
    name = text(product, "name") if isinstance(product, Mapping) else None
    return PriceReading(
        price_id=price_id,
        interval=text(recurring, "interval") or "month",
        interval_count=integer(recurring, "interval_count", 1),
        amount=integer(price, "unit_amount"),
        currency=text(price, "currency") or "usd",
        name=name or text(price, "nickname"),
        lookup_key=text(price, "lookup_key"),
    )


class PriceCatalog:
    """Plan <-> Stripe price: the configured ids (``{"solo": "price_..."}``), plus prices
    learned since (schedule phases name prices by id only, so their reader fetches them).

    A price object is always read afresh (its lookup key or metadata may have changed);
    what was learned only answers for a bare id.
    """

    def __init__(self, price_ids: Mapping[str, str]) -> None:
        self._configured = {price: parse_plan(plan) for plan, price in price_ids.items()}
        self._learned: dict[str, PlanType] = {}
        self._price_by_plan = {plan: price for price, plan in self._configured.items()}

    def configured_price(self, plan: PlanType) -> str | None:
        return self._price_by_plan.get(plan)

    def remember(self, plan: PlanType, price_id: str) -> None:
        self._price_by_plan.setdefault(plan, price_id)
        self._learned.setdefault(price_id, plan)

    def learn(self, price: Mapping[str, Any]) -> PlanType:
        """Read a price object and answer for its bare id from now on."""
        plan = self.plan_of(price)
        price_id = id_of(price)
        if price_id is not None:
            self._learned[price_id] = plan
        return plan

    def knows(self, price_id: str) -> bool:
        return price_id in self._configured or price_id in self._learned

    def plan_of(self, price: Any) -> PlanType:
        """The plan of a price (an id, or the object); ``RuleViolated(unknown_price)``."""
        price_id = id_of(price)
        if not isinstance(price, Mapping) and price_id in self._learned:
            return self._learned[price_id]
        obj: Mapping[str, Any] = price if isinstance(price, Mapping) else {}
        return plan_from_price(
            price_id=price_id,
            lookup_key=text(obj, "lookup_key"),
            metadata_plan=text(metadata(obj), "plan"),
            configured=self._configured,
        )
