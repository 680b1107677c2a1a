"""Unit tests of verify_session and open_portal through fakes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from billing_domain.errors import Forbidden, NotFound
from billing_domain.plans import PlanType
from billing_domain.portal_events import PortalSessionCreated
from checkout.ports import StripeSessionView
from checkout.testing import World

pytestmark = pytest.mark.unit


async def test_a_paid_session_verifies_with_its_plan(world: World) -> None:
    started = await world.checkout("solo")
    world.gateway.complete(started.session_id, "paid")
    result = await world.verify(started.session_id)
    assert result.verified
    assert (result.status, result.payment_status) == ("complete", "paid")
    assert result.plan is PlanType.SOLO
    assert result.trial is False


async def test_a_trial_session_verifies_as_a_trial(world: World) -> None:
    started = await world.checkout("team", trial=True)
    world.gateway.complete(started.session_id, "no_payment_required")
    result = await world.verify(started.session_id)
    assert (result.verified, result.plan, result.trial) == (True, PlanType.TEAM, True)


@pytest.mark.parametrize(
    ("status", "payment_status"),
    [("open", "unpaid"), ("complete", "unpaid"), ("expired", "unpaid")],
)
async def test_an_unpaid_session_is_not_verified_and_names_no_plan(
    world: World, status: str, payment_status: str
) -> None:
    started = await world.checkout("solo")
    session = world.gateway.sessions[started.session_id]
    world.gateway.sessions[started.session_id] = replace(
        session, status=status, payment_status=payment_status
    )
    result = await world.verify(started.session_id)
    assert (result.verified, result.plan, result.trial) == (False, None, False)
    assert result.status == status


async def test_another_tenant_cannot_verify_a_session(world: World) -> None:
    started = await world.checkout("solo")
    world.gateway.complete(started.session_id)
    with pytest.raises(Forbidden) as raised:
        await world.verify(started.session_id, tenant_id="t-2", role="owner")
    assert raised.value.code == "other_tenant"


async def test_a_session_of_another_tenants_customer_is_refused_whatever_its_metadata(
    world: World,
) -> None:
    started = await world.checkout("solo", tenant_id="t-2")
    forged = replace(
        world.gateway.sessions[started.session_id],
        client_reference_id="t-1",
        metadata={"tenant_id": "t-1", "plan": "solo"},
    )
    world.gateway.sessions[started.session_id] = forged
    with pytest.raises(Forbidden):
        await world.verify(started.session_id)


async def test_a_session_naming_no_tenant_is_refused(world: World) -> None:
    world.gateway.sessions["cs_test_foreign"] = StripeSessionView(
        session_id="cs_test_foreign",
        status="complete",
        payment_status="paid",
        customer_id=None,
        client_reference_id=None,
    )
    with pytest.raises(Forbidden):
        await world.verify("cs_test_foreign")


async def test_an_unknown_session_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await world.verify("cs_test_nope")


async def test_bad_plan_metadata_falls_back_to_the_stored_session(world: World) -> None:
    started = await world.checkout("team")
    world.gateway.complete(started.session_id)
    session = world.gateway.sessions[started.session_id]
    world.gateway.sessions[started.session_id] = replace(
        session, metadata={**session.metadata, "plan": "gold"}
    )
    assert (await world.verify(started.session_id)).plan is PlanType.TEAM


async def test_the_portal_needs_a_customer(world: World) -> None:
    with pytest.raises(NotFound) as raised:
        await world.portal()
    assert raised.value.code == "no_customer"
    assert not world.gateway.calls


async def test_the_portal_returns_to_the_billing_settings(world: World) -> None:
    await world.checkout("solo")
    url = await world.portal()
    assert url == "https://portal.test/cus_1"
    assert world.gateway.portal_calls == [("cus_1", "https://app.example/settings/billing")]
    opened = [e for e in world.db.tables.outbox if isinstance(e, PortalSessionCreated)]
    assert [(e.tenant_id, e.stripe_customer_id, e.source) for e in opened] == [
        ("t-1", "cus_1", "checkout")
    ]


async def test_only_the_owner_opens_the_portal(world: World) -> None:
    await world.checkout("solo")
    with pytest.raises(Forbidden):
        await world.portal(role="member")
