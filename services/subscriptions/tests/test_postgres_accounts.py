"""The billing_accounts projection on real Postgres: what is saved is what is read."""

from datetime import timedelta

import asyncpg
import pytest
from billing_domain.money import Money
from billing_domain.payment_failure import PaymentFailure
from billing_domain.status import SubscriptionStatus
from subscriptions.adapters.postgres import PgAccountReader, PgSubscriptionsUnitOfWork
from subscriptions.testing import Builders, World

pytestmark = pytest.mark.integration


async def test_a_payment_failure_and_its_start_survive_a_save(
    pool: asyncpg.Pool, world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    since = world.clock.now() - timedelta(days=2)
    failure = PaymentFailure(
        amount_due=Money(amount=2900, currency="eur"),
        hosted_invoice_url="https://pay.example/in_7",
        next_payment_attempt=world.clock.now() + timedelta(days=1),
        invoice_id="in_7",
        since=since,
    )
    account = build.paid_account(
        tenant, status=SubscriptionStatus.PAST_DUE, payment_failure=failure
    )
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        await uow.accounts.save(account)
        await uow.commit()
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        locked = await uow.accounts.get_for_update(tenant)
    read = await PgAccountReader(pool).find(tenant)
    assert locked.payment_failure == failure
    assert read is not None
    assert read.payment_failure == failure
    assert read.last_applied == locked.last_applied == account.last_applied
