"""Every Stripe call of every adapter, made once against the sandbox.

The three services' Stripe adapters run as the services run them (through the
platform's ``StripeCaller``), in the order a tenant's life takes them: plans,
customer, checkout (paid on the sandbox's page), portal, the subscription read,
previewed, canceled, resumed, upgraded, downgraded at period end, the schedule
read as webhooks reads it, the downgrade released. ``exercised`` names every
adapter method called, so the audit can say which one a change left out.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from analytics.adapters.stripe_prices import StripePriceBook
from billing_domain.errors import Conflict
from billing_domain.plans import PlanType
from billing_platform.stripe_gateway import StripeCaller
from billing_platform.stripe_reading import PriceCatalog, id_of
from checkout.adapters.stripe import StripePaymentGateway
from checkout.ports import NewCheckoutSession, NewSetupSession
from subscriptions.adapters.self_service_stripe import StripeSelfServiceGateway
from subscriptions.adapters.stripe import StripeSubscriptionGateway
from webhooks.adapters.stripe import StripeObjectReader

T = TypeVar("T")
ADAPTERS: tuple[type[Any], ...] = (
    StripePaymentGateway,
    StripeSubscriptionGateway,
    StripeSelfServiceGateway,
    StripeObjectReader,
    StripePriceBook,
)
CARD_OK = "4242424242424242"


def adapter_methods() -> set[str]:
    """``Class.method`` of every public method of the Stripe adapters."""
    return {
        f"{cls.__name__}.{name}"
        for cls in ADAPTERS
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_")
    }


class Scenario:
    def __init__(self, caller: StripeCaller, sandbox_url: str, price_ids: dict[str, str]) -> None:
        self.checkout = StripePaymentGateway(caller)
        self.subscriptions = StripeSubscriptionGateway(caller, PriceCatalog({}))  # lookup keys
        self.webhooks = StripeObjectReader(caller)
        self.self_service = StripeSelfServiceGateway(caller)
        # analytics' backfill: one configured price (retrieved), the rest by lookup key
        self.price_book = StripePriceBook(caller, PriceCatalog({"team": price_ids["team"]}))
        self.sandbox_url = sandbox_url
        self.price_ids = price_ids
        self.exercised: set[str] = set()

    async def _run(self, adapter: object, name: str, call: Callable[[], Awaitable[T]]) -> T:
        self.exercised.add(f"{type(adapter).__name__}.{name}")
        return await call()

    async def run(self) -> None:
        tenant = f"audit-{uuid.uuid4().hex[:12]}"
        customer = await self._checkout(tenant)
        await self._subscription_life(tenant, customer)
        await self._self_service(tenant, customer)
        await self._trial_without_card(f"audit-{uuid.uuid4().hex[:12]}")
        await self._price_book()

    async def _price_book(self) -> None:
        book = self.price_book
        await self._run(book, "price", lambda: book.price(PlanType.TEAM, "month"))
        await self._run(book, "price", lambda: book.price(PlanType.SOLO, "year"))

    async def _checkout(self, tenant: str) -> str:
        gw, key = self.checkout, uuid.uuid4().hex
        await self._run(gw, "prices", lambda: gw.prices(list(self.price_ids.values())))
        customer = await self._run(
            gw,
            "create_customer",
            lambda: gw.create_customer(tenant_id=tenant, idempotency_key=f"{key}.customer"),
        )
        request = NewCheckoutSession(
            tenant_id=tenant,
            customer_id=customer,
            price_id=self.price_ids["team"],
            plan=PlanType.TEAM,
            trial_days=14,
            success_url="https://app.example/billing/success?session_id={CHECKOUT_SESSION_ID}",
            cancel_url="https://app.example/billing",
            idempotency_key=f"{key}.session",
        )
        opened = await self._run(
            gw, "create_checkout_session", lambda: gw.create_checkout_session(request)
        )
        async with httpx.AsyncClient(base_url=self.sandbox_url) as page:
            paid = await page.post(f"/checkout/{opened.session_id}/pay", data={"card": CARD_OK})
        if paid.status_code != 303:
            raise RuntimeError(f"the sandbox's checkout page refused to pay: {paid.text}")
        await self._run(
            gw, "retrieve_checkout_session", lambda: gw.retrieve_checkout_session(opened.session_id)
        )
        await self._run(
            gw,
            "create_portal_session",
            lambda: gw.create_portal_session(
                customer_id=customer, return_url="https://app.example/billing"
            ),
        )
        return customer

    async def _subscription_life(self, tenant: str, customer: str) -> None:
        gw, key, now = self.subscriptions, uuid.uuid4().hex, datetime.now(UTC)
        found = await self._run(gw, "find_customer", lambda: gw.find_customer(tenant))
        current = await self._run(
            gw, "current_subscription", lambda: gw.current_subscription(found or customer)
        )
        if current is None:
            raise RuntimeError("the paid checkout left no subscription")
        sub = current.subscription_id
        await self._run(gw, "read_subscription", lambda: gw.read_subscription(sub))
        await self._run(gw, "preview_trial_end", lambda: gw.preview_trial_end(sub))
        await self._run(
            gw, "end_trial_now", lambda: gw.end_trial_now(sub, idempotency_key=f"{key}.t")
        )
        await self._run(
            gw,
            "preview_plan_change",
            lambda: gw.preview_plan_change(
                sub, PlanType.ENTERPRISE, proration_date=now, prorate=True
            ),
        )
        await self._run(
            gw, "schedule_cancel", lambda: gw.schedule_cancel(sub, idempotency_key=f"{key}.c")
        )
        await self._run(gw, "resume", lambda: gw.resume(sub, idempotency_key=f"{key}.r"))
        upgraded = await self._run(
            gw,
            "change_plan_now",
            lambda: gw.change_plan_now(
                sub, PlanType.ENTERPRISE, proration_date=now, idempotency_key=f"{key}.u"
            ),
        )
        effective_at = upgraded.current_period_end or now
        await self._run(
            gw,
            "schedule_plan_change",
            lambda: gw.schedule_plan_change(
                sub, PlanType.SOLO, effective_at=effective_at, idempotency_key=f"{key}.d"
            ),
        )
        await self._read_as_webhooks_does(customer, sub)
        await self._run(
            gw,
            "release_pending_change",
            lambda: gw.release_pending_change(sub, idempotency_key=f"{key}.x"),
        )

    async def _trial_without_card(self, tenant: str) -> None:
        """A one-day trial started without a card, extended a day, paused at its end,
        resumed once a card is added."""
        checkout, gw, key = self.checkout, self.subscriptions, uuid.uuid4().hex
        customer = await checkout.create_customer(tenant_id=tenant, idempotency_key=key)
        request = NewCheckoutSession(
            tenant_id=tenant,
            customer_id=customer,
            price_id=self.price_ids["team"],
            plan=PlanType.TEAM,
            trial_days=1,
            trial_requires_card=False,
            trial_end_without_card="pause",
            success_url="https://app.example/billing/success?session_id={CHECKOUT_SESSION_ID}",
            cancel_url="https://app.example/billing",
            idempotency_key=f"{key}.session",
        )
        opened = await checkout.create_checkout_session(request)
        async with httpx.AsyncClient(base_url=self.sandbox_url) as sandbox:
            started = await sandbox.post(f"/checkout/{opened.session_id}/pay", data={"card": ""})
            if started.status_code != 303:
                raise RuntimeError(f"the sandbox refused a trial without a card: {started.text}")
            current = await gw.current_subscription(customer)
            if current is None or current.trial_end is None:
                raise RuntimeError("the trial checkout left no trialing subscription")
            sub, later = current.subscription_id, current.trial_end + timedelta(days=1)
            await self._run(
                gw,
                "move_trial_end",
                lambda: gw.move_trial_end(sub, later, idempotency_key=f"{key}.m"),
            )
            await sandbox.post("/_sandbox/clock/advance", json={"seconds": 2 * 86_400 + 120})
            await sandbox.post(f"/_sandbox/customers/{customer}/card", json={"card": CARD_OK})
        await self._run(
            gw, "resume_paused", lambda: gw.resume_paused(sub, idempotency_key=f"{key}.p")
        )

    async def _read_as_webhooks_does(self, customer: str, subscription_id: str) -> None:
        reader = self.webhooks
        await self._run(reader, "customer", lambda: reader.customer(customer))
        subscription = await self._run(
            reader, "subscription", lambda: reader.subscription(subscription_id)
        )
        schedule_id = id_of(subscription.get("schedule"))
        if schedule_id is None:
            raise RuntimeError("the downgrade left no subscription schedule")
        await self._run(
            reader, "subscription_schedule", lambda: reader.subscription_schedule(schedule_id)
        )

    async def _self_service(self, tenant: str, customer: str) -> None:
        """A card added in setup mode, made the default, the old one removed, an invoice
        read and paid (already paid: Stripe refuses, the parameters are still audited)."""
        gw, key = self.self_service, uuid.uuid4().hex
        checkout = self.checkout
        request = NewSetupSession(
            tenant_id=tenant,
            customer_id=customer,
            currency="usd",
            success_url="https://app.example/billing?session_id={CHECKOUT_SESSION_ID}",
            cancel_url="https://app.example/billing",
            idempotency_key=f"{key}.setup",
        )
        opened = await self._run(
            checkout, "create_setup_session", lambda: checkout.create_setup_session(request)
        )
        async with httpx.AsyncClient(base_url=self.sandbox_url) as page:
            saved = await page.post(f"/checkout/{opened.session_id}/pay", data={"card": CARD_OK})
        if saved.status_code != 303:
            raise RuntimeError(f"the sandbox's setup page refused the card: {saved.text}")
        wallet = await self._run(gw, "wallet", lambda: gw.wallet(customer, tenant))
        newest = max(
            wallet.cards, key=lambda card: card.created or datetime.min.replace(tzinfo=UTC)
        )
        await self._run(
            gw,
            "set_default_payment_method",
            lambda: gw.set_default_payment_method(
                customer, newest.payment_method_id, idempotency_key=f"{key}.default"
            ),
        )
        await self._run(  # checkout's: the owner back from setup mode
            checkout,
            "make_default_payment_method",
            lambda: checkout.make_default_payment_method(
                customer, newest.payment_method_id, idempotency_key=f"{key}.setup-default"
            ),
        )
        for card in wallet.cards:
            if card.payment_method_id != newest.payment_method_id:
                await self._run(
                    gw,
                    "detach_payment_method",
                    lambda card=card: gw.detach_payment_method(  # type: ignore[misc]
                        card.payment_method_id, idempotency_key=f"{key}.{card.payment_method_id}"
                    ),
                )
        invoice_id = wallet.invoices[0].invoice_id
        await self._run(gw, "invoice_state", lambda: gw.invoice_state(invoice_id))
        reader = self.webhooks  # why an attempt failed, on which card
        await self._run(reader, "invoice_payments", lambda: reader.invoice_payments(invoice_id))
        operator = self.subscriptions  # "pay now" and the failed-payment queue's retry
        with contextlib.suppress(Conflict):  # paid already: Stripe refuses
            await self._run(
                operator,
                "pay_invoice",
                lambda: operator.pay_invoice(invoice_id, idempotency_key=f"{key}.retry"),
            )
