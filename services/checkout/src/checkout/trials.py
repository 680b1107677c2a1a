"""One trial per tenant and per Stripe customer, ever (issue 15 item 3).

- A used trial is recorded in ``checkout.trials_used`` (projections.py): a trial checkout
  that completed, or any subscription seen with a ``trial_end``. A trial checkout after
  that is 409 ``trial_already_used`` before anything reaches Stripe.
- Trial checkouts of one tenant run one at a time (a transaction-scoped advisory lock),
  and a tenant has at most one open trial session: asking again returns it. So nobody
  opens several trial sessions first and completes them all later; one completed at
  Stripe whose event has not arrived yet is a used trial already (409).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from billing_domain.errors import Conflict

from checkout.ports import CheckoutSessionRecord, PaymentGateway, UnitOfWork, UnitOfWorkFactory

CHECKOUT_SESSION_LIFETIME = timedelta(hours=24)
"""Stripe expires a Checkout session 24 hours after its creation (the default)."""


def _used() -> Conflict:
    return Conflict(
        "this tenant has already had its trial; check out without one",
        code="trial_already_used",
    )


async def trial_available(uow_factory: UnitOfWorkFactory, tenant_id: str) -> bool:
    """Whether a trial checkout would be accepted: neither the tenant nor its Stripe
    customer has had one (the pricing page offers a trial only then)."""
    async with uow_factory() as uow:
        customer_id = await uow.customers.get(tenant_id)
        return not await uow.trials.used(tenant_id=tenant_id, customer_id=customer_id)


async def refuse_second_trial(uow: UnitOfWork, tenant_id: str, customer_id: str | None) -> None:
    if await uow.trials.used(tenant_id=tenant_id, customer_id=customer_id):
        raise _used()


@asynccontextmanager
async def one_trial_checkout_at_a_time(
    uow_factory: UnitOfWorkFactory, tenant_id: str, *, trial: bool
) -> AsyncIterator[None]:
    """Hold the tenant's trial lock (a transaction that writes nothing) for the block."""
    if not trial:
        yield
        return
    async with uow_factory() as guard:
        await guard.trials.lock(tenant_id)
        yield


async def pending_trial_session(
    uow: UnitOfWork, tenant_id: str, now: datetime
) -> CheckoutSessionRecord | None:
    return await uow.sessions.latest_open_trial(
        tenant_id=tenant_id, since=now - CHECKOUT_SESSION_LIFETIME
    )


async def still_open(pending: CheckoutSessionRecord, gateway: PaymentGateway) -> bool:
    """True when Stripe still offers the session; a completed one is a used trial (409)."""
    session = await gateway.retrieve_checkout_session(pending.session_id)
    if session.status == "complete":
        raise _used()
    return session.status == "open"
