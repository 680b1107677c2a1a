"""The billing_accounts projection on real Postgres: what is saved is what is read."""

from datetime import timedelta

import asyncpg
import pytest
from billing_domain.ended_subscription import EndedReason, EndedSubscription
from billing_domain.money import Money
from billing_domain.payment_failure import AttemptOutcome, PaymentAttempt, PaymentFailure
from billing_domain.plans import PlanType
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
        attempt_count=2,
        action_required=True,
        attempts=(
            PaymentAttempt(
                number=1,
                at=since,
                outcome=AttemptOutcome.DECLINED,
                decline_code="insufficient_funds",
                card_brand="visa",
                card_last4="9995",
            ),
            PaymentAttempt(number=2, at=since, outcome=AttemptOutcome.ACTION_REQUIRED),
        ),
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


async def test_why_a_subscription_ended_survives_a_save(
    pool: asyncpg.Pool, world: World, build: type[Builders]
) -> None:
    tenant = build.tenant()
    account = build.paid_account(tenant, status=SubscriptionStatus.CANCELED)
    account.plan = PlanType.FREE
    account.ended = EndedSubscription(reason=EndedReason.PAYMENT_FAILED, plan=PlanType.TEAM)
    async with PgSubscriptionsUnitOfWork(pool) as uow:
        await uow.accounts.save(account)
        await uow.commit()
    read = await PgAccountReader(pool).find(tenant)
    assert read is not None
    assert read.ended == account.ended
