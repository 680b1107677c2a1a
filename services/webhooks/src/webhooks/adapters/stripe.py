"""Reading Stripe objects through the official SDK (``StripeCaller``: rate limit, retries)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import orjson
from billing_platform.stripe_gateway import StripeCaller, as_dict
from stripe.params import EventListParams


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

    async def invoice_payments(self, invoice_id: str) -> Mapping[str, Any]:
        found = await self._caller(
            "invoice_payments.list",
            lambda: self._v1.invoice_payments.list_async(
                params={"invoice": invoice_id, "limit": 10, "expand": [INVOICE_PAYMENT_EXPAND]}
            ),
        )
        return as_dict(found)


INVOICE_PAYMENT_EXPAND = "data.payment.payment_intent.payment_method"
"""The payment intent (its ``last_payment_error``: the decline) and the card it was tried
with (4 levels: Stripe's deepest expansion)."""


class StripeEventFeed:
    """Stripe's event list, page by page (100 a page), each page through the caller's
    rate limit and retries."""

    def __init__(self, caller: StripeCaller, *, page_size: int = 100) -> None:
        self._caller = caller
        self._v1 = caller.client.v1
        self._page_size = page_size

    async def created_since(self, created_gte: int, *, undelivered: bool) -> AsyncIterator[bytes]:
        params: EventListParams = {"created": {"gte": created_gte}, "limit": self._page_size}
        if undelivered:
            params["delivery_success"] = False
        while True:
            page = await self._caller("events.list", self._page_of(params))
            for event in _raw_events(page):
                yield orjson.dumps(event)
            if not page.has_more or not page.data:
                return
            params = {**params, "starting_after": page.data[-1].id}

    def _page_of(self, params: EventListParams) -> Callable[[], Awaitable[Any]]:
        return lambda: self._v1.events.list_async(params=params)


def _raw_events(page: Any) -> list[Any]:
    """The events as Stripe sent them (the SDK's objects turn some strings into Decimal)."""
    response = getattr(page, "last_response", None)
    if response is not None:
        events: list[Any] = orjson.loads(response.body)["data"]
        return events
    return [as_dict(event) for event in page.data]
