"""``billing reconcile`` for self-service: the tenant's cards, default method and recent
invoices re-read from Stripe and written as Stripe has them (webhooks that never
arrived). Watermarks are kept: a write from a read of Stripe is not an event."""

from __future__ import annotations

from dataclasses import replace

from subscriptions.ports import UnitOfWorkFactory
from subscriptions.self_service.ports import SelfServiceGateway, StoredCard


async def repair_wallet(
    tenant_id: str,
    customer_id: str,
    *,
    gateway: SelfServiceGateway,
    uow_factory: UnitOfWorkFactory,
) -> bool:
    """True when a card, the default or an invoice of the tenant changed."""
    wallet = await gateway.wallet(customer_id, tenant_id)
    changed = False
    async with uow_factory() as uow:
        repo = uow.self_service
        known = {stored.card.payment_method_id: stored for stored in await repo.cards_of(tenant_id)}
        live = {card.payment_method_id for card in wallet.cards}
        for card in wallet.cards:
            before = known.get(card.payment_method_id)
            after = StoredCard(
                tenant_id=tenant_id,
                stripe_customer_id=customer_id,
                card=card,
                last_applied=None if before is None else before.last_applied,
            )
            if before != after:
                await repo.save_card(after)
                changed = True
        for method_id, stored in known.items():
            if method_id not in live and not stored.detached:
                await repo.save_card(replace(stored, detached=True))
                changed = True
        for invoice in wallet.invoices:
            current = await repo.invoice_for_update(tenant_id, invoice.invoice_id)
            fresh = replace(invoice, last_applied=None if current is None else current.last_applied)
            if fresh != current:
                await repo.save_invoice(fresh)
                changed = True
        await repo.set_default(tenant_id, customer_id, wallet.default_payment_method_id)
        await uow.commit()
    return changed
