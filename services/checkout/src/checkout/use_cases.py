"""Checkout use cases: start a checkout, open the Customer Portal, verify a returned session.

Each is a plain async function taking a command and its ports; only
``await uow.commit()`` makes anything durable. Stripe is called outside any
transaction except when a tenant's first customer is created, which holds a
per-tenant lock so concurrent first checkouts create one customer.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import structlog
from billing_domain.auth import Action, Principal, authorize
from billing_domain.clock import Clock
from billing_domain.envelope import new_event
from billing_domain.errors import Conflict, Forbidden, NotFound, RuleViolated
from billing_domain.events import CheckoutSessionCreated, CustomerCreated
from billing_domain.plans import PlanType, parse_interval, parse_plan
from billing_domain.portal_events import PortalSessionCreated
from billing_domain.stripe_rules import provisions

from checkout.commands import (
    CheckoutStarted,
    OpenPortal,
    StartCheckout,
    Verification,
    VerifySession,
)
from checkout.config import CheckoutConfig
from checkout.ports import (
    CheckoutSessionRecord,
    NewCheckoutSession,
    PaymentGateway,
    StripeSessionView,
    TenantPlan,
    UnitOfWork,
    UnitOfWorkFactory,
)
from checkout.trials import (
    one_trial_checkout_at_a_time,
    pending_trial_session,
    refuse_second_trial,
    still_open,
)

log = structlog.get_logger("checkout.use_cases")

SOURCE = "checkout"


def paid_plan(value: str) -> PlanType:
    """A plan one can check out: known and paid (422 otherwise)."""
    plan = parse_plan(value)
    if not plan.is_paid:
        raise RuleViolated("the free plan needs no checkout", code="free_plan")
    return plan


def refuse_if_subscribed(current: TenantPlan | None, plan: PlanType) -> None:
    """409 when the tenant already pays for a plan: this one, or another (change plan instead)."""
    if current is None or not current.plan.is_paid:
        return
    if current.plan is plan:
        raise Conflict(f"the tenant is already on the {plan.value} plan", code="already_on_plan")
    raise Conflict(
        f"the tenant already subscribes to the {current.plan.value} plan; change plans with "
        "POST /api/billing/subscription/plan",
        code="already_subscribed",
    )


def _digest(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:40]


def customer_idempotency_key(tenant_id: str) -> str:
    """Derived from the tenant alone, so any retry or race asks Stripe for the same customer."""
    return f"checkout-customer-{_digest(tenant_id)}"


async def start_checkout(
    cmd: StartCheckout,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    config: CheckoutConfig,
    clock: Clock,
) -> CheckoutStarted:
    principal = cmd.principal
    authorize(principal, Action.MANAGE_BILLING, tenant_id=principal.tenant_id)
    tenant = principal.tenant_id
    plan = paid_plan(cmd.plan)
    trial_days = config.trial_days_for(plan) if cmd.trial else None
    if cmd.trial and not trial_days:
        raise RuleViolated(f"the {plan.value} plan has no trial", code="trial_not_offered")
    interval = parse_interval(cmd.interval)
    price_id = config.price_for(plan, interval)
    async with one_trial_checkout_at_a_time(uow_factory, tenant, trial=cmd.trial):
        return await _open_session(
            cmd,
            plan,
            price_id,
            trial_days,
            uow_factory=uow_factory,
            gateway=gateway,
            config=config,
            clock=clock,
        )


async def _open_session(
    cmd: StartCheckout,
    plan: PlanType,
    price_id: str,
    trial_days: int | None,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    config: CheckoutConfig,
    clock: Clock,
) -> CheckoutStarted:
    tenant = cmd.principal.tenant_id
    now = clock.now()
    async with uow_factory() as uow:
        refuse_if_subscribed(await uow.tenant_plans.get(tenant), plan)
        customer_id = await uow.customers.get(tenant)
        if cmd.trial:
            await refuse_second_trial(uow, tenant, customer_id)
        earlier = await _earlier_session(uow, cmd, plan, config, now)
        pending = await pending_trial_session(uow, tenant, now) if cmd.trial else None
    if earlier is None and pending is not None and await still_open(pending, gateway):
        earlier = pending  # one open trial checkout per tenant: the same one again
    if earlier is not None:
        log.info("checkout.session.replayed", session_id=earlier.session_id)
        return CheckoutStarted(session_id=earlier.session_id, url=earlier.url, replayed=True)
    if customer_id is None:
        customer_id = await ensure_customer(
            tenant, uow_factory=uow_factory, gateway=gateway, clock=clock, cause=cmd.causation_id
        )

    if cmd.idempotency_key is not None:
        stripe_key = f"checkout-session-{_digest(tenant, 'key', cmd.idempotency_key)}"
    else:
        bucket = int(now.timestamp()) // config.double_click_window_s
        parts: tuple[object, ...] = (tenant, plan.value, cmd.trial, bucket)
        if cmd.interval != "month":  # the monthly key stays what it was
            parts = (*parts, cmd.interval)
        stripe_key = f"checkout-session-{_digest(*parts)}"
    opened = await gateway.create_checkout_session(
        NewCheckoutSession(
            tenant_id=tenant,
            customer_id=customer_id,
            price_id=price_id,
            plan=plan,
            interval=parse_interval(cmd.interval),
            trial_days=trial_days,
            trial_requires_card=config.trial_requires_card,
            trial_end_without_card=config.trial_end_without_card,
            success_url=config.success_url(trial=cmd.trial),
            cancel_url=config.cancel_url,
            idempotency_key=stripe_key,
        )
    )
    record = CheckoutSessionRecord(
        session_id=opened.session_id,
        tenant_id=tenant,
        plan=plan,
        trial=cmd.trial,
        url=opened.url,
        stripe_customer_id=customer_id,
        idempotency_key=cmd.idempotency_key,
        created_at=now,
        interval=parse_interval(cmd.interval),
    )
    async with uow_factory() as uow:
        created = await uow.sessions.add(record)
        if created:
            await uow.outbox.add(
                new_event(
                    CheckoutSessionCreated,
                    tenant_id=tenant,
                    source=SOURCE,
                    causation_id=cmd.causation_id,
                    clock=clock,
                    checkout_session_id=opened.session_id,
                    stripe_customer_id=customer_id,
                    plan=plan,
                    trial=cmd.trial,
                    interval=record.interval,
                )
            )
        await uow.commit()
    log.info("checkout.session.created", session_id=opened.session_id, plan=plan.value)
    return CheckoutStarted(session_id=opened.session_id, url=opened.url, replayed=not created)


async def _earlier_session(
    uow: UnitOfWork, cmd: StartCheckout, plan: PlanType, config: CheckoutConfig, now: datetime
) -> CheckoutSessionRecord | None:
    """The session a double click (or a repeated ``Idempotency-Key``) should get again."""
    tenant = cmd.principal.tenant_id
    if cmd.idempotency_key is not None:
        earlier = await uow.sessions.by_idempotency_key(tenant, cmd.idempotency_key)
        if earlier is not None and (earlier.plan, earlier.trial, earlier.interval) != (
            plan,
            cmd.trial,
            parse_interval(cmd.interval),
        ):
            raise Conflict(
                "this Idempotency-Key was used for another checkout", code="idempotency_key_reused"
            )
        return earlier
    since = now - timedelta(seconds=config.double_click_window_s)
    return await uow.sessions.latest_open(
        tenant_id=tenant,
        plan=plan,
        trial=cmd.trial,
        since=since,
        interval=parse_interval(cmd.interval),
    )


async def ensure_customer(
    tenant_id: str,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    clock: Clock,
    cause: str,
) -> str:
    """The tenant's one Stripe customer, created on first use.

    Concurrent first calls queue on a per-tenant lock held for the transaction,
    so only one of them asks Stripe; the idempotency key derived from the tenant
    covers a crash between Stripe's answer and our commit (the retry gets the
    same customer back). The table's unique constraints are the last guard.
    """
    async with uow_factory() as uow:
        await uow.customers.lock(tenant_id)
        existing = await uow.customers.get(tenant_id)
        if existing is not None:
            return existing
        customer_id = await gateway.create_customer(
            tenant_id=tenant_id, idempotency_key=customer_idempotency_key(tenant_id)
        )
        await uow.customers.add(
            tenant_id=tenant_id, customer_id=customer_id, created_at=clock.now()
        )
        await uow.outbox.add(
            new_event(
                CustomerCreated,
                tenant_id=tenant_id,
                source=SOURCE,
                causation_id=cause,
                clock=clock,
                stripe_customer_id=customer_id,
            )
        )
        await uow.commit()
    log.info("checkout.customer.created", stripe_customer_id=customer_id)
    return customer_id


async def open_portal(
    cmd: OpenPortal,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    config: CheckoutConfig,
    clock: Clock,
) -> str:
    """The URL of a Customer Portal session for the tenant's customer; records
    ``portal.session_created`` (portal usage) once Stripe opened it."""
    principal = cmd.principal
    authorize(principal, Action.MANAGE_BILLING, tenant_id=principal.tenant_id)
    async with uow_factory() as uow:
        customer_id = await uow.customers.get(principal.tenant_id)
    if customer_id is None:
        raise NotFound("this tenant has no billing customer yet", code="no_customer")
    url = await gateway.create_portal_session(
        customer_id=customer_id, return_url=config.portal_return_url
    )
    async with uow_factory() as uow:
        await uow.outbox.add(
            new_event(
                PortalSessionCreated,
                tenant_id=principal.tenant_id,
                source=SOURCE,
                causation_id=cmd.causation_id,
                clock=clock,
                stripe_customer_id=customer_id,
            )
        )
        await uow.commit()
    return url


async def verify_session(
    cmd: VerifySession,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    clock: Clock,
) -> Verification:
    """Ask Stripe how a returned session stands; never trust the browser's ``?success=true``.
    The owner back from a setup session: the card saved becomes the default (once)."""
    principal = cmd.principal
    authorize(principal, Action.VERIFY_SESSION, tenant_id=principal.tenant_id)
    session = await gateway.retrieve_checkout_session(cmd.session_id)
    async with uow_factory() as uow:
        record = await uow.sessions.get(session.session_id)
        customer_tenant = (
            await uow.customers.tenant_of(session.customer_id) if session.customer_id else None
        )
    named = _tenants_named_by(session, record, customer_tenant)
    if named != {principal.tenant_id}:
        raise Forbidden("this checkout session belongs to another tenant", code="other_tenant")
    verified = provisions(status=session.status, payment_status=session.payment_status)
    plan = _plan_of(session, record) if verified else None
    trial = verified and (
        session.metadata.get("trial") == "true" or (record is not None and record.trial)
    )
    made_default = False
    if verified and session.mode == "setup":
        made_default = await _adopt_saved_card(
            session, principal, uow_factory=uow_factory, gateway=gateway, clock=clock
        )
    return Verification(
        verified=verified,
        status=session.status,
        payment_status=session.payment_status,
        plan=plan,
        trial=trial,
        mode=session.mode,
        saved_card=session.saved_card if session.mode == "setup" else None,
        made_default=made_default,
    )


async def _adopt_saved_card(
    session: StripeSessionView,
    principal: Principal,
    *,
    uow_factory: UnitOfWorkFactory,
    gateway: PaymentGateway,
    clock: Clock,
) -> bool:
    """The card a setup session saved becomes the customer's and its subscriptions'
    default, so the next retry of a failed invoice charges it (Checkout in setup mode
    only attaches it). The owner's return only, once per session: an old return URL
    visited again never undoes a later choice. True when it is (or was made) default."""
    card = session.saved_card
    if card is None or session.customer_id is None or not principal.is_owner:
        return False
    async with uow_factory() as uow:
        if await uow.card_setups.adopted(session.session_id):
            return True
    await gateway.make_default_payment_method(
        session.customer_id,
        card.payment_method_id,
        idempotency_key=f"checkout-setup-default-{session.session_id}",
    )
    async with uow_factory() as uow:
        await uow.card_setups.record(
            session_id=session.session_id,
            tenant_id=principal.tenant_id,
            payment_method_id=card.payment_method_id,
            adopted_at=clock.now(),
        )
        await uow.commit()
    log.info(
        "checkout.card_setup.made_default",
        tenant_id=principal.tenant_id,
        session_id=session.session_id,
        payment_method_id=card.payment_method_id,
    )
    return True


def _tenants_named_by(
    session: StripeSessionView, record: CheckoutSessionRecord | None, customer_tenant: str | None
) -> set[str]:
    """Every tenant the session points at; a session of ours names exactly one."""
    named = {
        session.client_reference_id,
        session.metadata.get("tenant_id"),
        customer_tenant,
        record.tenant_id if record is not None else None,
    }
    return {tenant for tenant in named if tenant}


def _plan_of(session: StripeSessionView, record: CheckoutSessionRecord | None) -> PlanType | None:
    raw = session.metadata.get("plan")
    if raw:
        try:
            return parse_plan(raw)
        except RuleViolated:
            log.warning("checkout.session.bad_plan_metadata", session_id=session.session_id)
    return record.plan if record is not None else None
