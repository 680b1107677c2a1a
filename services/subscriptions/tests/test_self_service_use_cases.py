"""Self-service use cases on the fakes: make default (customer and every subscription),
remove (the last card of a paid plan, the successor default, why none), pay now (nothing
due without calling Stripe, a decline, never touching the banner)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from billing_domain.errors import Conflict, Forbidden, NotFound, RuleViolated
from billing_domain.invoice_history import InvoiceDocument
from billing_domain.payment_methods import CardOnFile
from billing_domain.payment_recovery import PaymentAttempt
from subscriptions.self_service import use_cases
from subscriptions.self_service.commands import (
    MakeDefault,
    PayInvoice,
    Removal,
    RemovePaymentMethod,
    Wallet,
)
from subscriptions.self_service.ports import StoredCard, StripeInvoiceState
from subscriptions.self_service.testing import FakeSelfServiceGateway, FakeSelfServiceReader
from subscriptions.testing import Builders, World

pytestmark = pytest.mark.unit


def put_card(world: World, tenant: str, pm: str, *, year: int = 2034, created: int = 0) -> None:
    card = CardOnFile(
        payment_method_id=pm,
        brand="visa",
        last4=pm[-4:],
        exp_month=12,
        exp_year=year,
        created=datetime.fromtimestamp(1_700_000_000 + created, UTC),
    )
    world.store.cards[(tenant, pm)] = StoredCard(
        tenant_id=tenant, stripe_customer_id=f"cus_{tenant}", card=card
    )


def remove(
    world: World, build: type[Builders], tenant: str, pm: str, role: str = "owner"
) -> RemovePaymentMethod:
    return RemovePaymentMethod(
        principal=build.principal(tenant, role),
        tenant_id=tenant,
        payment_method_id=pm,
        request_key="k",
    )


async def run_remove(
    world: World, gateway: FakeSelfServiceGateway, cmd: RemovePaymentMethod
) -> Removal:
    return await use_cases.remove_payment_method(
        cmd,
        reader=FakeSelfServiceReader(world.store),
        accounts=world.reader,
        uow_factory=world.uow,
        gateway=gateway,
        clock=world.clock,
    )


def default(build: type[Builders], tenant: str, pm: str) -> MakeDefault:
    return MakeDefault(
        principal=build.principal(tenant), tenant_id=tenant, payment_method_id=pm, request_key="k"
    )


async def run_default(world: World, gateway: FakeSelfServiceGateway, cmd: MakeDefault) -> Wallet:
    return await use_cases.make_default(
        cmd,
        reader=FakeSelfServiceReader(world.store),
        uow_factory=world.uow,
        gateway=gateway,
        clock=world.clock,
    )


async def test_make_default_pins_the_customer_and_every_subscription(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    put_card(world, tenant, "pm_1111")
    gateway = FakeSelfServiceGateway(subscriptions={f"cus_{tenant}": ["sub_a", "sub_b"]})
    wallet = await run_default(world, gateway, default(build, tenant, "pm_1111"))
    assert gateway.defaults == {f"cus_{tenant}": "pm_1111", "sub_a": "pm_1111", "sub_b": "pm_1111"}
    assert wallet.default_payment_method_id == "pm_1111"


async def test_another_tenants_card_is_404_and_a_member_403_nothing_called(
    world: World, build: type[Builders]
) -> None:
    owner, other = build.tenant(), build.tenant()
    put_card(world, owner, "pm_1111")
    gateway = FakeSelfServiceGateway()
    with pytest.raises(NotFound):
        await run_default(world, gateway, default(build, other, "pm_1111"))
    with pytest.raises(Forbidden):
        await run_remove(world, gateway, remove(world, build, owner, "pm_1111", role="member"))
    assert gateway.calls == []


async def test_an_expired_card_is_refused_as_the_default_before_stripe_is_asked(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    last_year = world.clock.now().year - 1
    put_card(world, tenant, "pm_1111", year=last_year)
    gateway = FakeSelfServiceGateway(subscriptions={f"cus_{tenant}": ["sub_a"]})
    with pytest.raises(RuleViolated) as refused:
        await run_default(world, gateway, default(build, tenant, "pm_1111"))
    assert refused.value.code == "card_expired"
    assert f"12/{last_year}" in str(refused.value)
    assert gateway.calls == []
    assert gateway.defaults == {}


async def test_the_only_card_of_a_paid_subscription_stays(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant))
    put_card(world, tenant, "pm_1111")
    gateway = FakeSelfServiceGateway()
    with pytest.raises(Conflict) as refused:
        await run_remove(world, gateway, remove(world, build, tenant, "pm_1111"))
    assert refused.value.code == "last_payment_method"
    assert gateway.calls == []


async def test_removing_the_default_makes_the_card_expiring_last_the_default(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    world.seed(build.paid_account(tenant))
    put_card(world, tenant, "pm_1111", year=2030)
    put_card(world, tenant, "pm_2222", year=2036)
    put_card(world, tenant, "pm_3333", year=2031, created=5)
    world.store.defaults[tenant] = "pm_1111"
    gateway = FakeSelfServiceGateway(subscriptions={f"cus_{tenant}": ["sub_a"]})
    removal = await run_remove(world, gateway, remove(world, build, tenant, "pm_1111"))
    assert gateway.calls == ["default:pm_2222", "detach:pm_1111"]  # the new default first
    assert (removal.default_payment_method_id, removal.default_note) == ("pm_2222", None)
    assert [c.payment_method_id for c in removal.wallet.cards] == ["pm_2222", "pm_3333"]


async def test_removing_the_default_says_why_no_card_replaces_it(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()  # free: no paid subscription, so the last card may go
    put_card(world, tenant, "pm_1111")
    world.store.defaults[tenant] = "pm_1111"
    gateway = FakeSelfServiceGateway()
    removal = await run_remove(world, gateway, remove(world, build, tenant, "pm_1111"))
    assert removal.default_payment_method_id is None
    assert removal.default_note is not None
    assert gateway.calls == ["detach:pm_1111"]


def invoice(tenant: str, status: str) -> InvoiceDocument:
    return InvoiceDocument(
        invoice_id="in_1",
        tenant_id=tenant,
        stripe_customer_id=f"cus_{tenant}",
        currency="usd",
        status=status,
    )


async def test_pay_now_nothing_due_without_stripe_then_a_paid_answer(
    world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    cmd = PayInvoice(
        principal=build.principal(tenant), tenant_id=tenant, invoice_id="in_1", request_key="k"
    )
    gateway, payer = FakeSelfServiceGateway(), world.gateway
    reader = FakeSelfServiceReader(world.store)
    with pytest.raises(NotFound):
        await use_cases.pay_invoice(cmd, reader=reader, gateway=gateway, payer=payer)
    world.store.invoices[(tenant, "in_1")] = invoice(tenant, "paid")
    with pytest.raises(Conflict):
        await use_cases.pay_invoice(cmd, reader=reader, gateway=gateway, payer=payer)
    assert gateway.calls == []
    assert payer.calls == []
    world.store.invoices[(tenant, "in_1")] = invoice(tenant, "open")
    gateway.invoice_states["in_1"] = StripeInvoiceState(
        invoice_id="in_1", customer_id=f"cus_{tenant}", status="paid", amount_remaining=0
    )
    with pytest.raises(Conflict):  # the projection lags: Stripe says it is paid
        await use_cases.pay_invoice(cmd, reader=reader, gateway=gateway, payer=payer)
    gateway.invoice_states["in_1"] = StripeInvoiceState(
        invoice_id="in_1", customer_id=f"cus_{tenant}", status="open", amount_remaining=2900
    )
    payer.invoice_answers["in_1"] = PaymentAttempt.DECLINED
    with pytest.raises(RuleViolated) as declined:  # Stripe's code and words, for the tenant
        await use_cases.pay_invoice(cmd, reader=reader, gateway=gateway, payer=payer)
    assert (declined.value.code, declined.value.message) == (
        "card_declined",
        "Your card was declined.",
    )
    del payer.invoice_answers["in_1"]
    attempt = await use_cases.pay_invoice(cmd, reader=reader, gateway=gateway, payer=payer)
    assert attempt.status == "paid"
    assert world.store.commits == 0  # the banner is the projection's: only invoice.paid clears it
