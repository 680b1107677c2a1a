"""Opening balances (``billing analytics backfill``): the MRR of each tenant the ledger
does not know yet, read from the subscriptions service's projection through its
operators' API and priced from Stripe's catalogue.

A tenant the ledger already knows (any state: an event reached it, or an earlier
backfill) is left alone, so a second run adds nothing and a tenant is never counted
twice. A paying tenant gets an ``opening`` movement (0 -> its MRR, at ``as_of``);
every tenant with a subscription gets its state, so the events that follow fold from it
(a trial's conversion, an upgrade) as if the ledger had always known it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog
from billing_domain.revenue import MovementKind, counts_toward_mrr, monthly_amount

from analytics.ports import (
    CataloguePrice,
    ListedSubscription,
    Movement,
    PriceBook,
    SubscriptionDirectory,
    TenantRevenue,
    UnitOfWorkFactory,
)

log = structlog.get_logger("analytics.backfill")

OPENING_EVENT = "backfill:opening"
"""The ``event_id`` of an opening movement and the ordering mark of its state."""


@dataclass(kw_only=True)
class BackfillReport:
    listed: int = 0
    opened: int = 0
    """Tenants given an opening balance (paying)."""
    known: int = 0
    """Tenants the ledger knew already (left alone)."""
    not_paying: int = 0
    """Tenants recorded with MRR 0 (trialing, free, ended...)."""
    without_subscription: int = 0
    unpriced: list[str] = field(default_factory=list)
    """Paying tenants whose plan has no price in the catalogue (nothing recorded)."""
    opening_mrr: dict[str, int] = field(default_factory=dict)


def opening_of(
    listed: ListedSubscription, price: CataloguePrice | None, *, as_of: datetime
) -> tuple[TenantRevenue, Movement | None]:
    """The state a tenant starts the ledger with, and its opening movement if it pays."""
    assert listed.subscription_id is not None
    amount = None if price is None else price.amount
    interval = listed.interval if price is None else price.interval
    mrr = 0
    if price is not None and counts_toward_mrr(listed.status, listed.plan):
        mrr = monthly_amount(price.amount, price.interval, price.interval_count)
    state = TenantRevenue(
        tenant_id=listed.tenant_id,
        subscription_id=listed.subscription_id,
        status=listed.status,
        plan=listed.plan,
        currency=None if price is None else price.currency,
        amount=amount,
        interval=interval,
        mrr=mrr,
        cancel_at_period_end=listed.cancel_at_period_end,
        paid_before=mrr > 0,
        as_of=min(listed.updated_at, as_of),
        as_of_event=OPENING_EVENT,
    )
    if mrr == 0 or price is None:
        return state, None
    movement = Movement(
        tenant_id=listed.tenant_id,
        subscription_id=listed.subscription_id,
        currency=price.currency,
        kind=MovementKind.OPENING,
        mrr_before=0,
        mrr_after=mrr,
        plan_before=None,
        plan_after=listed.plan,
        occurred_at=as_of,
        event_id=OPENING_EVENT,
    )
    return state, movement


async def backfill_openings(
    directory: SubscriptionDirectory,
    prices: PriceBook,
    uow_factory: UnitOfWorkFactory,
    *,
    as_of: datetime,
) -> BackfillReport:
    """Page through every tenant's subscription; open the ledger of those it lacks (one
    transaction per page)."""
    report = BackfillReport()
    cursor: str | None = None
    while True:
        page = await directory.page(cursor)
        report.listed += len(page.subscriptions)
        priced = []
        for listed in page.subscriptions:
            if listed.subscription_id is None:
                report.without_subscription += 1
                continue
            price = None
            if listed.plan.is_paid:
                price = await prices.price(listed.plan, listed.interval)
            priced.append((listed, price))
        await _open_page(priced, uow_factory, report, as_of=as_of)
        if page.next_cursor is None:
            return report
        cursor = page.next_cursor


async def _open_page(
    priced: list[tuple[ListedSubscription, CataloguePrice | None]],
    uow_factory: UnitOfWorkFactory,
    report: BackfillReport,
    *,
    as_of: datetime,
) -> None:
    async with uow_factory() as uow:
        for listed, price in priced:
            if await uow.ledger.state(listed.tenant_id) is not None:
                report.known += 1
                continue
            if counts_toward_mrr(listed.status, listed.plan) and price is None:
                report.unpriced.append(listed.tenant_id)
                log.warning(
                    "analytics.backfill.unpriced",
                    tenant_id=listed.tenant_id,
                    plan=listed.plan.value,
                    interval=listed.interval,
                )
                continue
            state, movement = opening_of(listed, price, as_of=as_of)
            await uow.ledger.save_state(state)
            if movement is None:
                report.not_paying += 1
                continue
            await uow.ledger.add_movements([movement])
            report.opened += 1
            currency = movement.currency
            report.opening_mrr[currency] = report.opening_mrr.get(currency, 0) + movement.mrr_after
            log.info(
                "analytics.backfill.opened",
                tenant_id=listed.tenant_id,
                currency=currency,
                mrr=movement.mrr_after,
            )
        await uow.commit()
