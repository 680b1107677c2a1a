"""Prices from Stripe's catalogue for the backfill: the configured price of a plan and
interval (``STRIPE_PRICE_<PLAN>[_YEARLY]``, ``PriceCatalog``), else the active price of
its lookup key (``<plan>_monthly`` / ``<plan>_yearly``, as the subscriptions service
finds it), fetched once and read by the one reader
(``billing_platform.stripe_reading.read_price``)."""

from __future__ import annotations

from typing import Any

from billing_domain.plans import BillingInterval, PlanType, lookup_key
from billing_platform.stripe_gateway import StripeCaller, as_dict
from billing_platform.stripe_reading import PriceCatalog, read_price

from analytics.ports import CataloguePrice


class StripePriceBook:
    def __init__(self, caller: StripeCaller, catalog: PriceCatalog) -> None:
        self._caller = caller
        self._catalog = catalog
        self._read: dict[tuple[PlanType, BillingInterval], CataloguePrice | None] = {}

    async def price(self, plan: PlanType, interval: str) -> CataloguePrice | None:
        try:
            billing_interval = BillingInterval(interval)
        except ValueError:
            return None
        key = (plan, billing_interval)
        if key not in self._read:
            found = await self._fetch(plan, billing_interval)
            self._read[key] = None if found is None else _catalogue_price(found)
        return self._read[key]

    async def _fetch(self, plan: PlanType, interval: BillingInterval) -> dict[str, Any] | None:
        client = self._caller.client
        price_id = self._catalog.configured_price(plan, interval)
        if price_id is not None:
            configured = price_id
            obj = await self._caller(
                "prices.retrieve", lambda: client.v1.prices.retrieve_async(configured)
            )
            return as_dict(obj)
        listed = await self._caller(
            "prices.list",
            lambda: client.v1.prices.list_async(
                params={"lookup_keys": [lookup_key(plan, interval)], "active": True, "limit": 1}
            ),
        )
        prices = as_dict(listed).get("data") or []
        return dict(prices[0]) if prices else None


def _catalogue_price(price: dict[str, Any]) -> CataloguePrice:
    reading = read_price(price)
    return CataloguePrice(
        amount=reading.amount,
        currency=reading.currency,
        interval=reading.interval,
        interval_count=reading.interval_count,
    )
