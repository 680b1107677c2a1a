"""Repairing the projection from Stripe, for webhooks that never arrived.

``billing reconcile [--tenant T]`` calls ``reconcile``: it walks the tenants
the projection links to Stripe (or the one tenant asked for, found through its
customer's metadata when the projection has never heard of it), re-reads each
one's current subscription through the Stripe port (rate limited there, by the
platform's ``StripeCaller``) and applies it as authoritative. A tenant whose
projection changed is reported as repaired and its events are published like
any other change. One tenant failing does not stop the run.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog
from billing_domain.clock import Clock
from billing_domain.errors import DomainError
from billing_domain.subscription_snapshot import SubscriptionSnapshot

from subscriptions.ports import AccountReader, LinkedAccount, PaymentGateway, UnitOfWorkFactory
from subscriptions.publishing import events_to_publish
from subscriptions.self_service.ports import SelfServiceGateway
from subscriptions.self_service.reconcile import repair_wallet
from subscriptions.use_cases import take_fresh

log = structlog.get_logger("subscriptions.reconcile")

PAGE_SIZE = 200


@dataclass(kw_only=True)
class ReconcileReport:
    run_id: str
    checked: int = 0
    repaired: list[str] = field(default_factory=list)
    unchanged: int = 0
    without_subscription: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


async def reconcile(
    tenant_id: str | None,
    *,
    reader: AccountReader,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    clock: Clock,
    limit: int | None = None,
    self_service: SelfServiceGateway | None = None,
) -> ReconcileReport:
    """Re-read subscriptions from Stripe and repair the projection (one tenant or all);
    with ``self_service``, the tenant's cards, default method and invoices too."""
    report = ReconcileReport(run_id=f"reconcile:{uuid.uuid4()}")
    async for linked in _targets(tenant_id, reader, gateway, limit):
        report.checked += 1
        wallet_repaired = await _repair_wallet(linked, self_service, uow_factory, report)
        try:
            snapshot = await _current_subscription(linked, gateway)
            if snapshot is None:
                report.without_subscription.append(linked.tenant_id)
                continue
            repaired = await _repair(linked.tenant_id, snapshot, uow_factory, clock, report.run_id)
            repaired = repaired or wallet_repaired
        except DomainError as exc:
            log.warning(
                "subscriptions.reconcile.failed", tenant_id=linked.tenant_id, error=exc.code
            )
            report.failed[linked.tenant_id] = exc.code
            continue
        if repaired:
            report.repaired.append(linked.tenant_id)
        else:
            report.unchanged += 1
    log.info(
        "subscriptions.reconcile.done",
        run_id=report.run_id,
        checked=report.checked,
        repaired=len(report.repaired),
        failed=len(report.failed),
    )
    return report


async def _repair_wallet(
    linked: LinkedAccount,
    gateway: SelfServiceGateway | None,
    uow_factory: UnitOfWorkFactory,
    report: ReconcileReport,
) -> bool:
    """The tenant's cards, default and invoices; a failure is reported, the run goes on."""
    if gateway is None or linked.stripe_customer_id is None:
        return False
    try:
        return await repair_wallet(
            linked.tenant_id,
            linked.stripe_customer_id,
            gateway=gateway,
            uow_factory=uow_factory,
        )
    except DomainError as exc:
        log.warning(
            "subscriptions.reconcile.wallet_failed", tenant_id=linked.tenant_id, error=exc.code
        )
        report.failed[linked.tenant_id] = f"wallet:{exc.code}"
        return False


async def _targets(
    tenant_id: str | None, reader: AccountReader, gateway: PaymentGateway, limit: int | None
) -> AsyncIterator[LinkedAccount]:
    after: str | None = None
    seen = 0
    while True:
        page = await reader.linked_accounts(tenant_id=tenant_id, after=after, limit=PAGE_SIZE)
        if not page and after is None and tenant_id is not None:
            customer = await gateway.find_customer(tenant_id)
            if customer is not None:
                yield LinkedAccount(
                    tenant_id=tenant_id, stripe_customer_id=customer, stripe_subscription_id=None
                )
            return
        for linked in page:
            if limit is not None and seen >= limit:
                return
            seen += 1
            yield linked
        if len(page) < PAGE_SIZE:
            return
        after = page[-1].tenant_id


async def _current_subscription(
    linked: LinkedAccount, gateway: PaymentGateway
) -> SubscriptionSnapshot | None:
    if linked.stripe_customer_id is not None:
        return await gateway.current_subscription(linked.stripe_customer_id)
    assert linked.stripe_subscription_id is not None
    return await gateway.read_subscription(linked.stripe_subscription_id)


async def _repair(
    tenant_id: str,
    snapshot: SubscriptionSnapshot,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    run_id: str,
) -> bool:
    async with uow_factory() as uow:
        account = await uow.accounts.get_for_update(tenant_id)
        before = (account.snapshot(), account.payment_failure)
        take_fresh(account, snapshot, clock, run_id)
        if (account.snapshot(), account.payment_failure) == before:
            return False
        await uow.accounts.save(account)
        await uow.outbox.add_all(events_to_publish(account, causation_id=run_id, clock=clock))
        await uow.commit()
    log.info("subscriptions.reconcile.repaired", tenant_id=tenant_id, run_id=run_id)
    return True
