"""Adding a card: a Checkout session in setup mode for the tenant's one customer.

Checkout owns Checkout sessions and their returns, so the card setup lives here beside
the subscription checkout; its return is verified by ``verify_session`` (ownership
checked, ``mode`` ``setup``). The card itself reaches the tenant's list as
``payment_method.attached`` (the subscriptions service's projection); it is not made the
default here (``POST /api/billing/payment-methods/{id}/default`` does that).
"""

from __future__ import annotations

import hashlib

import structlog
from billing_domain.auth import Action, authorize
from billing_domain.clock import Clock

from checkout.commands import CheckoutStarted, StartCardSetup
from checkout.config import SETUP_CURRENCY, CheckoutConfig
from checkout.ports import NewSetupSession, PaymentGateway, UnitOfWorkFactory
from checkout.use_cases import ensure_customer

log = structlog.get_logger("checkout.card_setup")


def _key(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]
    return f"checkout-setup-{digest}"


async def start_card_setup(
    cmd: StartCardSetup,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    config: CheckoutConfig,
    clock: Clock,
) -> CheckoutStarted:
    principal = cmd.principal
    authorize(principal, Action.MANAGE_BILLING, tenant_id=principal.tenant_id)
    tenant = principal.tenant_id
    async with uow_factory() as uow:
        customer_id = await uow.customers.get(tenant)
    if customer_id is None:
        customer_id = await ensure_customer(
            tenant, uow_factory=uow_factory, gateway=gateway, clock=clock, cause=cmd.causation_id
        )
    if cmd.idempotency_key is not None:
        key = _key(tenant, "key", cmd.idempotency_key)
    else:  # a double click within the window gets the same session
        key = _key(tenant, int(clock.now().timestamp()) // config.double_click_window_s)
    opened = await gateway.create_setup_session(
        NewSetupSession(
            tenant_id=tenant,
            customer_id=customer_id,
            currency=SETUP_CURRENCY,
            success_url=config.setup_success_url,
            cancel_url=config.setup_cancel_url,
            idempotency_key=key,
        )
    )
    log.info("checkout.card_setup.created", session_id=opened.session_id)
    return CheckoutStarted(session_id=opened.session_id, url=opened.url)
