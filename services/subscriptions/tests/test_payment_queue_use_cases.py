"""The failed-payment queue's use cases on the fakes: what is audited, what is published,
and that Stripe is asked only when something is due (and never inside a transaction)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import pytest
from billing_domain.auth import Principal, Role
from billing_domain.errors import Conflict, Forbidden, GatewayUnavailable, NotFound
from billing_domain.money import Money
from billing_domain.operator_events import PaymentReminderRequested
from billing_domain.payment_failure import PaymentFailure
from billing_domain.payment_recovery import ActionOutcome, PaymentAttempt
from billing_domain.status import SubscriptionStatus
from subscriptions import payment_queue
from subscriptions.adapters.postgres import PgAccountReader, PgSubscriptionsUnitOfWork
from subscriptions.commands import OperatorTenantAction
from subscriptions.ports import InvoicePayment
from subscriptions.schema import SCHEMA
from subscriptions.testing import T0, Builders, FakePaymentGateway, World

OPERATOR = Principal(
    user_id="op-1", tenant_id="ops", role=Role.MEMBER, scopes=frozenset({"billing:admin"})
)


def action(tenant: str, principal: Principal = OPERATOR) -> OperatorTenantAction:
    return OperatorTenantAction(
        principal=principal, tenant_id=tenant, request_key="k", causation_id="req-1"
    )


def past_due(world: World, build: type[Builders], status: SubscriptionStatus) -> str:
    tenant = build.tenant()
    account = build.paid_account(tenant, status=status)
    account.payment_failure = PaymentFailure(
        amount_due=Money(amount=2900, currency="usd"),
        invoice_id=f"in_{tenant}",
        next_payment_attempt=T0 + timedelta(days=3),
    )
    world.seed(account)
    return tenant


@pytest.mark.unit
async def test_a_retry_is_audited_pending_then_with_stripes_answer(
    world: World, build: type[Builders]
) -> None:
    tenant = past_due(world, build, SubscriptionStatus.PAST_DUE)
    world.gateway.invoice_answers[f"in_{tenant}"] = PaymentAttempt.DECLINED
    commits = world.store.commits
    record = await payment_queue.retry_payment(
        action(tenant), world.reader, world.uow, world.gateway, world.clock
    )
    assert record.outcome == "stripe_declined"
    assert world.gateway.calls == ["pay_invoice"]
    assert world.gateway.keys == [f"subscriptions.retry_payment.in_{tenant}.k"]
    assert world.store.commits == commits + 2  # pending before Stripe, the answer after
    (audit,) = world.store.actions
    assert audit["outcome"] is ActionOutcome.STRIPE_DECLINED
    assert audit["operator_sub"] == "op-1"
    assert world.store.outbox == []  # the row changes by webhook, nothing is published


@pytest.mark.unit
@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (GatewayUnavailable("down"), ActionOutcome.STRIPE_UNAVAILABLE),
        (Conflict("Invoice is already paid", code="stripe_refused"), ActionOutcome.STRIPE_REFUSED),
    ],
)
async def test_stripe_failing_is_audited_and_raised(
    world: World, build: type[Builders], error: Exception, outcome: ActionOutcome
) -> None:
    tenant = past_due(world, build, SubscriptionStatus.UNPAID)
    world.gateway.invoice_answers[f"in_{tenant}"] = error
    with pytest.raises(type(error)):
        await payment_queue.retry_payment(
            action(tenant), world.reader, world.uow, world.gateway, world.clock
        )
    (audit,) = world.store.actions
    assert audit["outcome"] is outcome


@pytest.mark.unit
async def test_nothing_due_never_reaches_stripe(world: World, build: type[Builders]) -> None:
    paused = build.tenant()
    world.seed(build.paid_account(paused, status=SubscriptionStatus.PAUSED))
    with pytest.raises(Conflict):
        await payment_queue.retry_payment(
            action(paused), world.reader, world.uow, world.gateway, world.clock
        )
    with pytest.raises(NotFound):
        await payment_queue.retry_payment(
            action("nobody"), world.reader, world.uow, world.gateway, world.clock
        )
    assert world.gateway.calls == []
    assert [a["outcome"] for a in world.store.actions] == [ActionOutcome.NOTHING_DUE]


@pytest.mark.unit
async def test_remind_publishes_and_audits_in_one_commit(
    world: World, build: type[Builders]
) -> None:
    tenant = past_due(world, build, SubscriptionStatus.PAST_DUE)
    commits = world.store.commits
    record = await payment_queue.remind(action(tenant), world.reader, world.uow, world.clock)
    assert record.outcome == "requested"
    assert world.store.commits == commits + 1
    (event,) = world.store.outbox
    assert isinstance(event, PaymentReminderRequested)
    assert (event.stripe_invoice_id, event.requested_by, event.source) == (
        f"in_{tenant}",
        "op-1",
        "subscriptions",
    )
    assert event.causation_id == "req-1"
    assert world.gateway.calls == []


@pytest.mark.unit
async def test_remind_refuses_a_healthy_tenant_and_a_tenant_token(
    world: World, build: type[Builders]
) -> None:
    healthy = build.tenant()
    world.seed(build.paid_account(healthy))
    with pytest.raises(Conflict):
        await payment_queue.remind(action(healthy), world.reader, world.uow, world.clock)
    owner = build.principal(healthy)
    with pytest.raises(Forbidden):
        await payment_queue.remind(action(healthy, owner), world.reader, world.uow, world.clock)
    assert world.store.outbox == []
    assert [a["outcome"] for a in world.store.actions] == [ActionOutcome.NOTHING_DUE]


class LockingGateway(FakePaymentGateway):
    """While Stripe is charging, another transaction locks the tenant's row and writes the
    audit table, as the webhook consumer and another operator could."""

    def __init__(self, during: Callable[[], Awaitable[None]]) -> None:
        super().__init__()
        self.during = during

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> InvoicePayment:
        await self.during()
        return await super().pay_invoice(invoice_id, idempotency_key=idempotency_key)


@pytest.mark.integration
async def test_no_row_or_audit_lock_is_held_while_stripe_charges(
    pool: asyncpg.Pool, world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    account = build.paid_account(tenant, status=SubscriptionStatus.PAST_DUE)
    account.payment_failure = PaymentFailure(
        amount_due=Money(amount=2900, currency="usd"), invoice_id=f"in_{tenant}"
    )
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        await uow.accounts.save(account)
        await uow.commit()
    touched: list[str] = []

    async def elsewhere() -> None:
        async with PgSubscriptionsUnitOfWork(pool) as other:
            await other.connection.execute("SET LOCAL lock_timeout = '3s'")
            await other.accounts.get_for_update(tenant)  # fails if the retry holds the row
            await other.connection.execute(
                f"LOCK TABLE {SCHEMA}.operator_actions IN EXCLUSIVE MODE"  # and the audit
            )
            touched.append(tenant)

    record = await asyncio.wait_for(
        payment_queue.retry_payment(
            action(tenant),
            PgAccountReader(pool),
            lambda: PgSubscriptionsUnitOfWork(pool),
            LockingGateway(elsewhere),
            world.clock,
        ),
        timeout=10,
    )
    assert touched == [tenant]
    assert record.outcome == "stripe_paid"
