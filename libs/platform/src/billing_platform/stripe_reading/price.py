"""A Stripe price -> the plan and billing interval it stands for.

The precedence (configured ids, lookup key, metadata) is the domain's
``plan_from_price``; this module reads the fields and remembers what it learned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from billing_domain.errors import RuleViolated
from billing_domain.plans import BillingInterval, PlanType, parse_plan
from billing_domain.stripe_rules import interval_from_price, plan_from_price

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
    """Plan and interval <-> Stripe price: the configured ids (``{"solo": "price_..."}``
    monthly, ``yearly={"solo": "price_..."}``), plus prices learned since (schedule
    phases name prices by id only, so their reader fetches them).

    A price object is always read afresh (its lookup key or metadata may have changed);
    what was learned only answers for a bare id.
    """

    def __init__(
        self, price_ids: Mapping[str, str], yearly: Mapping[str, str] | None = None
    ) -> None:
        month, year = BillingInterval.MONTH, BillingInterval.YEAR
        configured = [(plan, price, month) for plan, price in price_ids.items()]
        configured += [(plan, price, year) for plan, price in (yearly or {}).items()]
        self._configured = {price: parse_plan(plan) for plan, price, _ in configured}
        self._intervals = {price: interval for _, price, interval in configured}
        self._learned: dict[str, tuple[PlanType, BillingInterval]] = {}
        self._price_by_plan = {
            (parse_plan(plan), interval): price for plan, price, interval in configured
        }

    def configured_price(
        self, plan: PlanType, interval: BillingInterval = BillingInterval.MONTH
    ) -> str | None:
        return self._price_by_plan.get((plan, interval))

    def remember(
        self, plan: PlanType, price_id: str, interval: BillingInterval = BillingInterval.MONTH
    ) -> None:
        self._price_by_plan.setdefault((plan, interval), price_id)
        self._learned.setdefault(price_id, (plan, interval))

    def learn(self, price: Mapping[str, Any]) -> PlanType:
        """Read a price object and answer for its bare id from now on."""
        plan = self.plan_of(price)
        price_id = id_of(price)
        if price_id is not None:
            self._learned[price_id] = (plan, self.interval_of(price))
        return plan

    def knows(self, price_id: str) -> bool:
        return price_id in self._configured or price_id in self._learned

    def plan_of(self, price: Any) -> PlanType:
        """The plan of a price (an id, or the object); ``RuleViolated(unknown_price)``."""
        price_id = id_of(price)
        if not isinstance(price, Mapping) and price_id in self._learned:
            return self._learned[price_id][0]
        obj: Mapping[str, Any] = price if isinstance(price, Mapping) else {}
        return plan_from_price(
            price_id=price_id,
            lookup_key=text(obj, "lookup_key"),
            metadata_plan=text(metadata(obj), "plan"),
            configured=self._configured,
        )

    def interval_of(self, price: Any) -> BillingInterval:
        """The billing interval of a price (an id, or the object): the object's
        ``recurring``, else what configuration or a past read said, else a month."""
        price_id = id_of(price)
        if isinstance(price, Mapping):
            recurring = mapping(price, "recurring")
            return interval_from_price(
                recurring_interval=text(recurring, "interval"),
                interval_count=integer(recurring, "interval_count", 1),
                lookup_key=text(price, "lookup_key"),
            )
        if price_id in self._learned:
            return self._learned[price_id][1]
        return self._intervals.get(price_id or "", BillingInterval.MONTH)
