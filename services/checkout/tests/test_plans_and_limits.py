"""Unit tests of the plan catalogue (cache, free plan, trial days)."""

from __future__ import annotations

import pytest
from billing_domain.auth import Principal, Role
from billing_domain.errors import GatewayUnavailable
from billing_domain.plans import PlanType
from checkout.plans import CachingPriceCatalogue, list_plans
from checkout.ports import PriceInfo
from checkout.testing import World

pytestmark = pytest.mark.unit

MEMBER = Principal(user_id="u", tenant_id="t-1", role=Role.MEMBER)


class Ticker:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def priced(world: World) -> World:
    world.gateway.price_table = {
        "price_solo": PriceInfo(
            price_id="price_solo", name="Solo", amount=900, currency="usd", interval="month"
        ),
        "price_team": PriceInfo(
            price_id="price_team", name=None, amount=2900, currency="usd", interval="month"
        ),
    }
    return world


async def test_plans_list_free_first_then_the_offered_paid_plans(priced: World) -> None:
    catalogue = CachingPriceCatalogue(priced.gateway, ttl_s=300)
    offers = await list_plans(MEMBER, prices=catalogue, config=priced.config)
    assert [(o.plan, o.name, o.amount, o.trial_days) for o in offers] == [
        (PlanType.FREE, "Free", 0, 0),
        (PlanType.SOLO, "Solo", 900, 0),
        (PlanType.TEAM, "Team", 2900, 14),
    ]
    assert {(o.currency, o.interval, o.interval_count) for o in offers} == {("usd", "month", 1)}


async def test_prices_are_read_once_per_ttl(priced: World) -> None:
    ticker = Ticker()
    catalogue = CachingPriceCatalogue(priced.gateway, ttl_s=300, monotonic=ticker)
    for _ in range(5):
        await list_plans(MEMBER, prices=catalogue, config=priced.config)
    assert priced.gateway.calls["prices.retrieve"] == 1
    ticker.t += 301
    await list_plans(MEMBER, prices=catalogue, config=priced.config)
    assert priced.gateway.calls["prices.retrieve"] == 2


async def test_a_stale_copy_is_served_while_stripe_is_down(priced: World) -> None:
    ticker = Ticker()
    catalogue = CachingPriceCatalogue(priced.gateway, ttl_s=300, monotonic=ticker)
    fresh = await list_plans(MEMBER, prices=catalogue, config=priced.config)
    priced.gateway.down = {"*"}
    ticker.t += 1000
    assert await list_plans(MEMBER, prices=catalogue, config=priced.config) == fresh


async def test_without_any_copy_stripe_down_is_unavailable(priced: World) -> None:
    priced.gateway.down = {"*"}
    catalogue = CachingPriceCatalogue(priced.gateway, ttl_s=300)
    with pytest.raises(GatewayUnavailable):
        await list_plans(MEMBER, prices=catalogue, config=priced.config)
