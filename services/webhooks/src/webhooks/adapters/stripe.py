"""Reading Stripe objects through the official SDK (``StripeCaller``: rate limit, retries)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billing_platform.stripe_gateway import StripeCaller, as_dict


class StripeObjectReader:
    def __init__(self, caller: StripeCaller) -> None:
        self._caller = caller
        self._v1 = caller.client.v1

    async def customer(self, customer_id: str) -> Mapping[str, Any]:
        found = await self._caller(
            "customers.retrieve", lambda: self._v1.customers.retrieve_async(customer_id)
        )
        return as_dict(found)

    async def subscription(self, subscription_id: str) -> Mapping[str, Any]:
        found = await self._caller(
            "subscriptions.retrieve",
            lambda: self._v1.subscriptions.retrieve_async(subscription_id),
        )
        return as_dict(found)

    async def subscription_schedule(self, schedule_id: str) -> Mapping[str, Any]:
        found = await self._caller(
            "subscription_schedules.retrieve",
            lambda: self._v1.subscription_schedules.retrieve_async(schedule_id),
        )
        return as_dict(found)
