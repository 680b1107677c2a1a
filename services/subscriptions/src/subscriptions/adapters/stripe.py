"""``StripeSubscriptionGateway``: the ``PaymentGateway`` port on the official SDK.

Every call goes through the platform's ``StripeCaller`` (shared rate limit,
retries of transient errors, SDK errors -> domain errors) and only plain
data leaves this module. Every request's parameters are typed with the SDK's
``stripe.params`` TypedDicts (for the pinned API version), so mypy refuses a
parameter Stripe no longer knows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from billing_domain.errors import Conflict, GatewayUnavailable, NotFound, RuleViolated
from billing_domain.money import Money
from billing_domain.payment_recovery import PaymentAttempt
from billing_domain.plans import BillingInterval, PlanType, lookup_key
from billing_domain.status import parse_status
from billing_domain.subscription_snapshot import SubscriptionSnapshot
from billing_domain.timestamps import from_unix
from billing_platform.stripe_gateway import StripeCaller, as_dict
from billing_platform.stripe_reading import PriceCatalog, id_of, read_invoice, read_snapshot
from billing_platform.stripe_reading.subscription import (
    first_item,
    is_live_schedule,
    item_price,
    phase_prices,
)
from stripe.params import (
    SubscriptionResumeParams,
    SubscriptionScheduleUpdateParams,
    SubscriptionScheduleUpdateParamsPhase,
    SubscriptionUpdateParams,
)

from subscriptions.ports import InvoicePayment, ProrationPreview, TrialEndPreview

T = TypeVar("T")
CHARGEABLE = ["schedule", "customer"]
"""The customer expanded too: whether it has a default payment method is read with it."""


class StripeSubscriptionGateway:
    def __init__(self, caller: StripeCaller | None, catalog: PriceCatalog) -> None:
        self._caller = caller
        self._catalog = catalog

    @property
    def caller(self) -> StripeCaller | None:
        """The process's Stripe caller (its rate limit), for the other Stripe adapters."""
        return self._caller

    # -- reads ------------------------------------------------------------------

    async def read_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        return await self._snapshot(await self._subscription(subscription_id))

    async def current_subscription(self, customer_id: str) -> SubscriptionSnapshot | None:
        found = await self._call(
            "subscriptions.list",
            lambda c: c.client.v1.subscriptions.list_async(
                params={
                    "customer": customer_id,
                    "status": "all",
                    "limit": 20,
                    "expand": ["data.schedule", "data.customer"],
                }
            ),
        )
        subscriptions = as_dict(found).get("data") or []
        if not subscriptions:
            return None
        live = [s for s in subscriptions if not parse_status(str(s["status"])).is_ended]
        chosen = max(live or subscriptions, key=lambda s: int(s.get("created") or 0))
        return await self._snapshot(chosen)

    async def find_customer(self, tenant_id: str) -> str | None:
        if any(ch in tenant_id for ch in "'\\\"") or not tenant_id:
            return None
        found = await self._call(
            "customers.search",
            lambda c: c.client.v1.customers.search_async(
                params={"query": f"metadata['tenant_id']:'{tenant_id}'", "limit": 1}
            ),
        )
        customers = as_dict(found).get("data") or []
        return str(customers[0]["id"]) if customers else None

    async def preview_plan_change(
        self,
        subscription_id: str,
        target: PlanType,
        *,
        interval: BillingInterval = BillingInterval.MONTH,
        proration_date: datetime | None = None,
        now: datetime | None = None,
        prorate: bool,
    ) -> ProrationPreview:
        """Stripe's invoice preview of the change. ``proration_date`` None: Stripe's now
        for the subscription (its test clock's time, else ``now``), whole seconds."""
        subscription = await self._subscription(subscription_id)
        item = first_item(subscription)
        price = await self._price_for(target, interval)
        if proration_date is None:
            proration_date = await self._now_of(subscription, now)
        stamp = int(proration_date.timestamp())
        current_interval = self._catalog.interval_of(item_price(item))
        if not prorate and current_interval is not interval:
            # At the period end on another interval: Stripe's preview of an item change
            # would restart the period now; the next invoice is one period of the new price.
            return await self._next_period_of(price, item, proration_date)
        preview = as_dict(
            await self._call(
                "invoices.create_preview",
                lambda c: c.client.v1.invoices.create_preview_async(
                    params={
                        "subscription": subscription_id,
                        "subscription_details": {
                            "items": [{"id": item["id"], "price": price}],
                            "proration_date": stamp,
                            "proration_behavior": "create_prorations" if prorate else "none",
                        },
                    }
                ),
            )
        )
        currency = str(preview["currency"])
        lines = (preview.get("lines") or {}).get("data") or []
        prorated = sum(int(line["amount"]) for line in lines if _is_proration(line))
        return ProrationPreview(
            proration_amount=Money(amount=prorated, currency=currency),
            next_invoice_amount=Money(amount=int(preview["amount_due"]), currency=currency),
            proration_date=from_unix(stamp),
        )

    async def _next_period_of(
        self, price_id: str, item: Mapping[str, Any], proration_date: datetime
    ) -> ProrationPreview:
        price = await self._price(price_id)
        currency = str(price["currency"])
        amount = int(price.get("unit_amount") or 0) * int(item.get("quantity") or 1)
        return ProrationPreview(
            proration_amount=Money(amount=0, currency=currency),
            next_invoice_amount=Money(amount=amount, currency=currency),
            proration_date=proration_date,
        )

    # -- changes ----------------------------------------------------------------

    async def schedule_cancel(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        return await self._set_cancel_at_period_end(subscription_id, True, idempotency_key)

    async def resume(self, subscription_id: str, *, idempotency_key: str) -> SubscriptionSnapshot:
        return await self._set_cancel_at_period_end(subscription_id, False, idempotency_key)

    async def release_pending_change(self, subscription_id: str, *, idempotency_key: str) -> None:
        subscription = await self._subscription(subscription_id)
        schedule = subscription.get("schedule")
        if not is_live_schedule(schedule):
            return
        assert isinstance(schedule, Mapping)
        schedule_id = str(schedule["id"])
        await self._call(
            "subscription_schedules.release",
            lambda c: c.client.v1.subscription_schedules.release_async(
                schedule_id, options={"idempotency_key": idempotency_key}
            ),
        )

    async def change_plan_now(
        self,
        subscription_id: str,
        target: PlanType,
        *,
        interval: BillingInterval = BillingInterval.MONTH,
        proration_date: datetime | None,
        idempotency_key: str,
    ) -> SubscriptionSnapshot:
        """Change the price now, prorated at ``proration_date`` (a preview's), or, None,
        at Stripe's own now for the subscription (the parameter is left out: Stripe then
        prorates at its clock, a test clock's time included)."""
        subscription = await self._subscription(subscription_id)
        item = first_item(subscription)
        price = await self._price_for(target, interval)
        params: SubscriptionUpdateParams = {
            "items": [{"id": item["id"], "price": price}],
            "proration_behavior": "create_prorations",
            "expand": CHARGEABLE,
        }
        if proration_date is not None:
            params["proration_date"] = int(proration_date.timestamp())
        updated = await self._call(
            "subscriptions.update",
            lambda c: c.client.v1.subscriptions.update_async(
                subscription_id, params=params, options={"idempotency_key": idempotency_key}
            ),
        )
        return await self._snapshot(as_dict(updated))

    async def schedule_plan_change(
        self,
        subscription_id: str,
        target: PlanType,
        *,
        interval: BillingInterval = BillingInterval.MONTH,
        effective_at: datetime,
        idempotency_key: str,
    ) -> SubscriptionSnapshot:
        subscription = await self._subscription(subscription_id)
        item = first_item(subscription)
        price = await self._price_for(target, interval)
        schedule = subscription.get("schedule")
        if not is_live_schedule(schedule) or not isinstance(schedule, Mapping):
            schedule = as_dict(
                await self._call(
                    "subscription_schedules.create",
                    lambda c: c.client.v1.subscription_schedules.create_async(
                        params={"from_subscription": subscription_id},
                        options={"idempotency_key": idempotency_key + ".create"},
                    ),
                )
            )
        schedule_id = str(schedule["id"])
        current = (schedule.get("phases") or [{}])[0]
        params: SubscriptionScheduleUpdateParams = {
            "phases": downgrade_phases(
                current_price=str(id_of(item_price(item))),
                current_start=int(current.get("start_date") or int(effective_at.timestamp())),
                effective_at=int(effective_at.timestamp()),
                target_price=await self._price(price),
                quantity=int(item.get("quantity") or 1),
            ),
            "end_behavior": "release",
        }
        await self._call(
            "subscription_schedules.update",
            lambda c: c.client.v1.subscription_schedules.update_async(
                schedule_id, params=params, options={"idempotency_key": idempotency_key + ".phases"}
            ),
        )
        return await self.read_subscription(subscription_id)

    # -- trials -----------------------------------------------------------------

    async def preview_trial_end(self, subscription_id: str) -> TrialEndPreview:
        preview = as_dict(
            await self._call(
                "invoices.create_preview",
                lambda c: c.client.v1.invoices.create_preview_async(
                    params={
                        "subscription": subscription_id,
                        "subscription_details": {"trial_end": "now"},
                    }
                ),
            )
        )
        lines = (preview.get("lines") or {}).get("data") or []
        ends = [int(line["period"]["end"]) for line in lines if line.get("period")]
        return TrialEndPreview(
            amount_due=Money(amount=int(preview["amount_due"]), currency=str(preview["currency"])),
            period_end=from_unix(max(ends)) if ends else None,
        )

    async def end_trial_now(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        updated = await self._call(
            "subscriptions.update",
            lambda c: c.client.v1.subscriptions.update_async(
                subscription_id,
                params={"trial_end": "now", "expand": CHARGEABLE},
                options={"idempotency_key": idempotency_key},
            ),
        )
        return await self._snapshot(as_dict(updated))

    async def move_trial_end(
        self, subscription_id: str, trial_end: datetime, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        updated = await self._call(
            "subscriptions.update",
            lambda c: c.client.v1.subscriptions.update_async(
                subscription_id,
                params={
                    "trial_end": int(trial_end.timestamp()),
                    # adding trial time prorates by default (Cashier #1149): never here
                    "proration_behavior": "none",
                    "expand": CHARGEABLE,
                },
                options={"idempotency_key": idempotency_key},
            ),
        )
        return await self._snapshot(as_dict(updated))

    async def resume_paused(
        self, subscription_id: str, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        params: SubscriptionResumeParams = {
            "billing_cycle_anchor": {"type": "now"},
            "payment_behavior": "resume_on_payment_success",
            "expand": CHARGEABLE,
        }
        resumed = await self._call(
            "subscriptions.resume",
            lambda c: c.client.v1.subscriptions.resume_async(
                subscription_id,
                params=params,
                options={"idempotency_key": idempotency_key},
            ),
        )
        return await self._snapshot(as_dict(resumed))

    async def pay_invoice(self, invoice_id: str, *, idempotency_key: str) -> InvoicePayment:
        """``invoices.pay`` with no ``payment_method``: Stripe charges the default one
        (the subscription's, else the customer's ``invoice_settings``). A declined card
        is an answer, not an error: the webhook ``invoice.payment_failed`` follows."""
        try:
            paid = await self._call(
                "invoices.pay",
                lambda c: c.client.v1.invoices.pay_async(
                    invoice_id, options={"idempotency_key": idempotency_key}
                ),
            )
        except NotFound as exc:
            raise Conflict("Stripe has no such invoice", code="stripe_refused") from exc
        except RuleViolated as exc:
            if exc.code == "stripe_invalid_request":  # already paid, void, uncollectible...
                raise Conflict(str(exc), code="stripe_refused") from exc
            needs_action = exc.code == "invoice_payment_intent_requires_action"
            return InvoicePayment(
                attempt=PaymentAttempt.REQUIRES_ACTION if needs_action else PaymentAttempt.DECLINED,
                invoice_status=None,
                refusal_code=exc.code,  # a card error: declined, expired, ...
                refusal=str(exc),
            )
        status = read_invoice(as_dict(paid)).status
        attempt = PaymentAttempt.PAID if status == "paid" else PaymentAttempt.REQUIRES_ACTION
        return InvoicePayment(attempt=attempt, invoice_status=status)

    # -- internals --------------------------------------------------------------

    async def _call(self, operation: str, call: Callable[[StripeCaller], Awaitable[T]]) -> T:
        caller = self._caller
        if caller is None:
            raise GatewayUnavailable("Stripe is not configured", code="stripe_not_configured")
        return await caller(operation, lambda: call(caller))

    async def _subscription(self, subscription_id: str) -> dict[str, Any]:
        found = await self._call(
            "subscriptions.retrieve",
            lambda c: c.client.v1.subscriptions.retrieve_async(
                subscription_id, params={"expand": CHARGEABLE}
            ),
        )
        return as_dict(found)

    async def _set_cancel_at_period_end(
        self, subscription_id: str, value: bool, idempotency_key: str
    ) -> SubscriptionSnapshot:
        updated = await self._call(
            "subscriptions.update",
            lambda c: c.client.v1.subscriptions.update_async(
                subscription_id,
                params={"cancel_at_period_end": value, "expand": CHARGEABLE},
                options={"idempotency_key": idempotency_key},
            ),
        )
        return await self._snapshot(as_dict(updated))

    async def _snapshot(self, subscription: Mapping[str, Any]) -> SubscriptionSnapshot:
        await self._learn_prices(subscription)
        return read_snapshot(subscription, self._catalog)

    async def _learn_prices(self, subscription: Mapping[str, Any]) -> None:
        """Schedule phases name prices by id only: fetch the ones not configured."""
        schedule = subscription.get("schedule")
        if not isinstance(schedule, Mapping):
            return
        for price in phase_prices(schedule):
            if isinstance(price, str) and not self._catalog.knows(price):
                self._catalog.learn(await self._price(price))

    async def _price(self, price_id: str) -> dict[str, Any]:
        found = await self._call(
            "prices.retrieve", lambda c: c.client.v1.prices.retrieve_async(price_id)
        )
        return as_dict(found)

    async def _now_of(self, subscription: Mapping[str, Any], fallback: datetime | None) -> datetime:
        """Stripe's notion of now for this subscription: its test clock's frozen time when
        it lives on one (test mode), else ``fallback`` (our clock: Stripe's own in live mode)."""
        clock = subscription.get("test_clock")
        clock_id = id_of(clock)
        if clock_id is None:
            if fallback is None:
                raise ValueError("a subscription without a test clock needs our clock's now")
            return fallback.replace(microsecond=0)
        found = await self._call(
            "test_helpers.test_clocks.retrieve",
            lambda c: c.client.v1.test_helpers.test_clocks.retrieve_async(clock_id),
        )
        return from_unix(int(as_dict(found)["frozen_time"]))

    async def _price_for(
        self, plan: PlanType, interval: BillingInterval = BillingInterval.MONTH
    ) -> str:
        configured = self._catalog.configured_price(plan, interval)
        if configured is not None:
            return configured
        key = lookup_key(plan, interval)
        found = await self._call(
            "prices.list",
            lambda c: c.client.v1.prices.list_async(
                params={"lookup_keys": [key], "active": True, "limit": 1}
            ),
        )
        prices = as_dict(found).get("data") or []
        if not prices:
            raise RuleViolated(
                f"no Stripe price for plan {plan.value} billed by the {interval.value}",
                code="plan_unavailable" if interval is BillingInterval.YEAR else "unknown_plan",
            )
        price_id = str(prices[0]["id"])
        self._catalog.remember(plan, price_id, interval)
        return price_id


def downgrade_phases(
    *,
    current_price: str,
    current_start: int,
    effective_at: int,
    target_price: Mapping[str, Any],
    quantity: int,
) -> list[SubscriptionScheduleUpdateParamsPhase]:
    """The schedule's phases for a downgrade at ``effective_at``: the current price until
    then, then one billing period of the target price (the schedule then releases the
    subscription, which renews on the target price).

    One period is ``duration`` (the target price's interval): Stripe removed
    ``iterations`` in 2025-09-30.clover and answers 400 for it.
    """
    recurring = target_price.get("recurring") or {}
    return [
        {
            "items": [{"price": current_price, "quantity": quantity}],
            "start_date": current_start,
            "end_date": effective_at,
        },
        {
            "items": [{"price": str(target_price["id"]), "quantity": quantity}],
            "duration": {
                "interval": str(recurring.get("interval") or "month"),
                "interval_count": int(recurring.get("interval_count") or 1),
            },
        },
    ]


def _is_proration(line: Mapping[str, Any]) -> bool:
    if line.get("proration") is True:
        return True
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or {}
    return bool(details.get("proration"))
