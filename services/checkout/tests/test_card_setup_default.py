"""Back from Checkout in setup mode, the owner's new card becomes the default (issue 18):
Checkout only attaches it, and a failed invoice's next retry must charge it."""

from __future__ import annotations

import pytest
from billing_domain.errors import Forbidden, GatewayUnavailable
from checkout.card_setup import start_card_setup
from checkout.commands import StartCardSetup
from checkout.testing import World

pytestmark = pytest.mark.unit


async def _setup(world: World, tenant_id: str = "t-1", key: str = "k-1") -> str:
    started = await start_card_setup(
        StartCardSetup(principal=world.principal(tenant_id), idempotency_key=key, causation_id="r"),
        uow_factory=world.db.uow,
        gateway=world.gateway,
        config=world.config,
        clock=world.clock,
    )
    return started.session_id


async def test_the_owners_return_makes_the_saved_card_the_default(world: World) -> None:
    session = await _setup(world)
    world.gateway.save_card(session, "pm_new", last4="4444")

    result = await world.verify(session, role="owner")

    assert (result.verified, result.mode, result.made_default) == (True, "setup", True)
    assert result.saved_card is not None
    assert (result.saved_card.payment_method_id, result.saved_card.last4) == ("pm_new", "4444")
    [(customer, method, key)] = world.gateway.default_calls
    assert (method, key) == ("pm_new", f"checkout-setup-default-{session}")
    assert world.gateway.defaults[customer] == "pm_new"


async def test_once_per_session_a_later_choice_of_default_is_never_undone(world: World) -> None:
    first = await _setup(world, key="k-1")
    world.gateway.save_card(first, "pm_first")
    await world.verify(first, role="owner")
    second = await _setup(world, key="k-2")
    world.gateway.save_card(second, "pm_second")
    await world.verify(second, role="owner")

    again = await world.verify(first, role="owner")  # the old return URL, visited again

    assert again.made_default is True  # it was made default once; nothing is redone
    assert [call[1] for call in world.gateway.default_calls] == ["pm_first", "pm_second"]
    assert set(world.gateway.defaults.values()) == {"pm_second"}


async def test_a_member_returning_changes_no_default(world: World) -> None:
    session = await _setup(world)
    world.gateway.save_card(session, "pm_new")

    result = await world.verify(session, role="member")

    assert (result.verified, result.made_default) == (True, False)
    assert world.gateway.default_calls == []


async def test_a_setup_not_completed_changes_nothing(world: World) -> None:
    session = await _setup(world)

    result = await world.verify(session, role="owner")

    assert (result.verified, result.made_default, result.saved_card) == (False, False, None)
    assert world.gateway.default_calls == []


async def test_another_tenants_setup_session_is_refused_and_changes_nothing(
    world: World,
) -> None:
    session = await _setup(world, tenant_id="t-other")
    world.gateway.save_card(session, "pm_theirs")

    with pytest.raises(Forbidden):
        await world.verify(session, tenant_id="t-1", role="owner")

    assert world.gateway.default_calls == []


async def test_stripe_down_records_nothing_and_the_next_return_retries(world: World) -> None:
    session = await _setup(world)
    world.gateway.save_card(session, "pm_new")
    world.gateway.down.add("customers.update")

    with pytest.raises(GatewayUnavailable):
        await world.verify(session, role="owner")
    assert world.db.tables.card_setups == {}

    world.gateway.down.clear()
    result = await world.verify(session, role="owner")
    assert result.made_default is True
    assert world.db.tables.card_setups == {session: "pm_new"}


async def test_a_plan_checkout_makes_no_card_default(world: World) -> None:
    started = await world.checkout("solo")
    world.gateway.complete(started.session_id, "paid")

    result = await world.verify(started.session_id, role="owner")

    assert (result.made_default, result.saved_card) == (False, None)
    assert world.gateway.default_calls == []
