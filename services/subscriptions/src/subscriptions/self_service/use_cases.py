"""Use cases of customer self-service: list cards and invoices (projections only), make a
card the default, remove one, pay an open invoice now.

As everywhere in this service, no lock is held across a Stripe call: decide from the
projections, call Stripe outside any transaction with an idempotency key, then record
Stripe's answer in a short transaction (the webhooks that follow confirm it).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import structlog
from billing_domain.auth import Action, authorize
from billing_domain.clock import Clock
from billing_domain.errors import NotFound, RuleViolated
from billing_domain.payment_methods import (
    refuse_removing_last_method,
    refuse_unless_payable,
    replacement_default,
)

from subscriptions.ports import AccountReader, InvoicePayer, UnitOfWorkFactory
from subscriptions.self_service.commands import (
    InvoicePage,
    ListInvoices,
    ListPaymentMethods,
    MakeDefault,
    PayInvoice,
    PaymentAttempt,
    Removal,
    RemovePaymentMethod,
    Wallet,
)
from subscriptions.self_service.ports import (
    InvoiceCursor,
    SelfServiceGateway,
    SelfServiceReader,
    StoredCard,
)

log = structlog.get_logger("subscriptions.self_service")

SETTLED = frozenset({"paid", "void", "uncollectible", "draft"})


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    return f"subscriptions-{kind}-{digest}"


async def list_payment_methods(cmd: ListPaymentMethods, reader: SelfServiceReader) -> Wallet:
    authorize(cmd.principal, Action.READ_SUBSCRIPTION, tenant_id=cmd.tenant_id)
    found = await reader.cards(cmd.tenant_id)
    return Wallet(cards=found.cards, default_payment_method_id=found.default_payment_method_id)


async def list_invoices(cmd: ListInvoices, reader: SelfServiceReader) -> InvoicePage:
    authorize(cmd.principal, Action.READ_SUBSCRIPTION, tenant_id=cmd.tenant_id)
    rows = await reader.invoices(cmd.tenant_id, after=cmd.after, limit=cmd.limit + 1)
    page, more = rows[: cmd.limit], len(rows) > cmd.limit
    last = page[-1] if page else None
    cursor = None
    if more and last is not None and last.created is not None:
        cursor = InvoiceCursor(created=last.created, invoice_id=last.invoice_id)
    return InvoicePage(invoices=page, next_cursor=cursor)


async def _attached(
    reader: SelfServiceReader, tenant_id: str, payment_method_id: str
) -> StoredCard:
    stored = await reader.card(tenant_id, payment_method_id)
    if stored is None:
        raise NotFound("no such payment method for this tenant", code="payment_method_not_found")
    return stored


async def make_default(
    cmd: MakeDefault,
    *,
    reader: SelfServiceReader,
    uow_factory: UnitOfWorkFactory,
    gateway: SelfServiceGateway,
    clock: Clock,
) -> Wallet:
    """The customer's ``invoice_settings.default_payment_method`` AND every live
    subscription's ``default_payment_method`` (a subscription pinned to its checkout card
    would keep charging that card). An expired card is refused before Stripe is asked:
    Stripe takes it as the default and declines it at the next renewal."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    stored = await _attached(reader, cmd.tenant_id, cmd.payment_method_id)
    if stored.card.expired(clock.now()):
        raise RuleViolated(
            f"the card expired at the end of {stored.card.exp_month:02d}/{stored.card.exp_year}:"
            " add a card and make that one the default",
            code="card_expired",
        )
    customer = stored.stripe_customer_id
    key = _key("default", cmd.tenant_id, cmd.payment_method_id, cmd.request_key)
    updated = await gateway.set_default_payment_method(
        customer, cmd.payment_method_id, idempotency_key=key
    )
    async with uow_factory() as uow:
        await uow.self_service.set_default(cmd.tenant_id, customer, cmd.payment_method_id)
        await uow.commit()
    log.info(
        "subscriptions.payment_method.default_set",
        tenant_id=cmd.tenant_id,
        payment_method_id=cmd.payment_method_id,
        subscriptions=len(updated),
    )
    return await list_payment_methods(
        ListPaymentMethods(principal=cmd.principal, tenant_id=cmd.tenant_id), reader
    )


async def remove_payment_method(
    cmd: RemovePaymentMethod,
    *,
    reader: SelfServiceReader,
    accounts: AccountReader,
    uow_factory: UnitOfWorkFactory,
    gateway: SelfServiceGateway,
    clock: Clock,
) -> Removal:
    """Detach the card; 409 for the only card of a paid subscription. Removing the default
    first makes the card that expires last the default (customer and subscriptions), or
    says why none can be."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    stored = await _attached(reader, cmd.tenant_id, cmd.payment_method_id)
    account = await accounts.find(cmd.tenant_id)
    paid = account is not None and account.plan.is_paid and not account.status.is_ended
    wallet = await reader.cards(cmd.tenant_id)
    refuse_removing_last_method(cmd.payment_method_id, wallet.cards, paid_subscription=paid)
    default, note = wallet.default_payment_method_id, None
    if default == cmd.payment_method_id:
        successor = replacement_default(cmd.payment_method_id, wallet.cards, clock.now())
        default = None if successor is None else successor.payment_method_id
        if successor is None:
            note = "no other unexpired card is on file: add a card to have a default again"
        else:
            await gateway.set_default_payment_method(
                stored.stripe_customer_id,
                successor.payment_method_id,
                idempotency_key=_key("default", cmd.tenant_id, "successor", cmd.request_key),
            )
    await gateway.detach_payment_method(
        cmd.payment_method_id,
        idempotency_key=_key("detach", cmd.tenant_id, cmd.payment_method_id, cmd.request_key),
    )
    async with uow_factory() as uow:
        current = await uow.self_service.card_for_update(cmd.tenant_id, cmd.payment_method_id)
        if current is not None:
            await uow.self_service.save_card(replace(current, detached=True))
        await uow.self_service.set_default(cmd.tenant_id, stored.stripe_customer_id, default)
        await uow.commit()
    log.info(
        "subscriptions.payment_method.removed",
        tenant_id=cmd.tenant_id,
        payment_method_id=cmd.payment_method_id,
        new_default=default,
    )
    after = await list_payment_methods(
        ListPaymentMethods(principal=cmd.principal, tenant_id=cmd.tenant_id), reader
    )
    return Removal(
        removed=cmd.payment_method_id,
        default_payment_method_id=after.default_payment_method_id,
        default_note=note,
        wallet=after,
    )


async def pay_invoice(
    cmd: PayInvoice,
    *,
    reader: SelfServiceReader,
    gateway: SelfServiceGateway,
    payer: InvoicePayer,
) -> PaymentAttempt:
    """Charge an open invoice now with the default method (Stripe's ``invoices.pay``);
    409 when nothing is due, 422 with Stripe's code when the card is refused. The
    payment-failure banner is not touched here: it clears when ``invoice.paid`` arrives."""
    authorize(cmd.principal, Action.MANAGE_BILLING, tenant_id=cmd.tenant_id)
    invoice = await reader.invoice(cmd.tenant_id, cmd.invoice_id)
    if invoice is None:
        raise NotFound("no such invoice for this tenant", code="invoice_not_found")
    if invoice.status in SETTLED:
        refuse_unless_payable(invoice.status, 0)
    state = await gateway.invoice_state(cmd.invoice_id)
    if state.customer_id != invoice.stripe_customer_id:
        raise NotFound("no such invoice for this tenant", code="invoice_not_found")
    refuse_unless_payable(state.status, state.amount_remaining)
    answer = await payer.pay_invoice(
        cmd.invoice_id, idempotency_key=_key("pay", cmd.tenant_id, cmd.invoice_id, cmd.request_key)
    )
    log.info(
        "subscriptions.invoice.pay_requested",
        tenant_id=cmd.tenant_id,
        stripe_invoice_id=cmd.invoice_id,
        status=answer.invoice_status,
        stripe_answer=answer.attempt.value,
    )
    if answer.refusal_code is not None:
        raise RuleViolated(answer.refusal or "Stripe refused the card", code=answer.refusal_code)
    return PaymentAttempt(invoice_id=cmd.invoice_id, status=answer.invoice_status)
