"""The daily card-expiring sweep: each tenant's default card, 20 days before the end of
its expiry month (``billing_domain.payment_methods.EXPIRING_SOON_DAYS``), once per card."""

from __future__ import annotations

from billing_domain.clock import Clock
from billing_domain.payment_methods import CardOnFile

from notifications import metrics
from notifications.kinds import MailKind
from notifications.ports import QueuedMail, UnitOfWorkFactory


async def sweep_expiring_cards(uow_factory: UnitOfWorkFactory, clock: Clock) -> int:
    """Queue a card-expiring mail for each default card expiring soon; how many."""
    now = clock.now()
    queued = 0
    async with uow_factory() as uow:
        for card in await uow.cards.default_cards():
            on_file = CardOnFile(
                payment_method_id=card.payment_method_id,
                brand=card.brand,
                last4=card.last4,
                exp_month=card.exp_month,
                exp_year=card.exp_year,
            )
            if not on_file.expiring_soon(now) or on_file.expired(now):
                continue
            subject = f"{card.payment_method_id}:{card.exp_year}-{card.exp_month}"
            if await uow.sends.ever_queued(MailKind.CARD_EXPIRING, card.tenant_id, subject):
                continue
            mail = QueuedMail(
                kind=MailKind.CARD_EXPIRING,
                tenant_id=card.tenant_id,
                subject_id=subject,
                day=now.date(),
                facts={
                    "payment_method_id": card.payment_method_id,
                    "brand": card.brand,
                    "last4": card.last4,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                },
                created_at=now,
            )
            if await uow.sends.enqueue(mail):
                metrics.QUEUED.labels(MailKind.CARD_EXPIRING.value).inc()
                queued += 1
        await uow.commit()
    return queued
