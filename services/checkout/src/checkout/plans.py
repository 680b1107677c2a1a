"""The plan catalogue shown on the pricing page: Stripe's prices, cached for minutes.

Prices live in Stripe (so the pricing page never hard-codes them); reading them
on every page view would spend Stripe's rate limit on read traffic, so they are
cached in process for ``ttl_s`` seconds. When Stripe is unreachable and a stale
copy exists, the stale copy is served (prices rarely change; a pricing page that
answers beats one that does not).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import structlog
from billing_domain.auth import Action, Principal, authorize
from billing_domain.errors import GatewayUnavailable
from billing_domain.plans import PlanType

from checkout.commands import PlanOffer
from checkout.config import CheckoutConfig
from checkout.ports import PaymentGateway, PriceCatalogue, PriceInfo

log = structlog.get_logger("checkout.plans")

FREE_PLAN_NAME = "Free"
DEFAULT_CURRENCY = "usd"
DEFAULT_INTERVAL = "month"


class CachingPriceCatalogue:
    """Wraps the gateway's ``prices``: one Stripe read per ``ttl_s``, stale copy on outages."""

    def __init__(
        self,
        gateway: PaymentGateway,
        *,
        ttl_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._gateway = gateway
        self._ttl = ttl_s
        self._now = monotonic
        self._lock = asyncio.Lock()
        self._cached: dict[str, PriceInfo] = {}
        self._key: tuple[str, ...] = ()
        self._fetched_at: float | None = None

    def _fresh(self, key: tuple[str, ...]) -> bool:
        return (
            self._fetched_at is not None
            and key == self._key
            and self._now() - self._fetched_at < self._ttl
        )

    async def prices(self, price_ids: Sequence[str]) -> dict[str, PriceInfo]:
        key = tuple(sorted(price_ids))
        if self._fresh(key):
            return self._cached
        async with self._lock:  # one refresh at a time; the others get its result
            if self._fresh(key):
                return self._cached
            try:
                fetched = await self._gateway.prices(key)
            except GatewayUnavailable:
                if self._fetched_at is None or key != self._key:
                    raise
                log.warning("checkout.plans.stale_prices_served")
                return self._cached
            self._cached, self._key, self._fetched_at = fetched, key, self._now()
            return fetched


async def list_plans(
    principal: Principal | None, *, prices: PriceCatalogue, config: CheckoutConfig
) -> list[PlanOffer]:
    """Free first, then each offered paid plan in rank order, with its yearly price when
    one is configured. Public (``principal`` None: the pricing page before sign-in)."""
    if principal is not None:
        authorize(principal, Action.READ_PLANS, tenant_id=principal.tenant_id)
    offered = config.offered
    ids = [config.prices[plan] for plan in offered]
    ids += [config.yearly_prices[plan] for plan in offered if plan in config.yearly_prices]
    found = await prices.prices(ids)
    paid = [
        _offer(
            plan, found[config.prices[plan]], config, found.get(config.yearly_prices.get(plan, ""))
        )
        for plan in offered
        if config.prices[plan] in found
    ]
    currency = paid[0].currency if paid else DEFAULT_CURRENCY
    free = PlanOffer(
        plan=PlanType.FREE,
        name=FREE_PLAN_NAME,
        amount=0,
        currency=currency,
        interval=DEFAULT_INTERVAL,
        interval_count=1,
        trial_days=0,
    )
    return [free, *paid]


def _offer(
    plan: PlanType, price: PriceInfo, config: CheckoutConfig, yearly: PriceInfo | None = None
) -> PlanOffer:
    return PlanOffer(
        yearly_amount=None if yearly is None or yearly.interval != "year" else yearly.amount,
        plan=plan,
        name=price.name or plan.value.title(),
        amount=price.amount,
        currency=price.currency,
        interval=price.interval,
        interval_count=price.interval_count,
        trial_days=config.trial_days_for(plan),
    )
