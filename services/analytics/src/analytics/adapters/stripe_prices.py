"""Prices from Stripe's catalogue for the backfill: the configured price of a plan and
interval (``STRIPE_PRICE_<PLAN>[_YEARLY]``, ``PriceCatalog``), fetched once and read by
the one reader (``billing_platform.stripe_reading.read_price``)."""

from __future__ import annotations

from billing_domain.plans import BillingInterval, PlanType
from billing_platform.stripe_gateway import StripeCaller, as_dict
from billing_platform.stripe_reading import PriceCatalog, read_price

from analytics.ports import CataloguePrice


class StripePriceBook:
    def __init__(self, caller: StripeCaller, catalog: PriceCatalog) -> None:
        self._caller = caller
        self._catalog = catalog
        self._read: dict[str, CataloguePrice] = {}

    async def price(self, plan: PlanType, interval: str) -> CataloguePrice | None:
        try:
            billing_interval = BillingInterval(interval)
        except ValueError:
            return None
        price_id = self._catalog.configured_price(plan, billing_interval)
        if price_id is None:
            return None
        if price_id not in self._read:
            client = self._caller.client
            obj = await self._caller(
                "prices.retrieve", lambda: client.v1.prices.retrieve_async(price_id)
            )
            reading = read_price(as_dict(obj))
            self._read[price_id] = CataloguePrice(
                amount=reading.amount,
                currency=reading.currency,
                interval=reading.interval,
                interval_count=reading.interval_count,
            )
        return self._read[price_id]
