"""A Stripe subscription (+ its items and schedule) -> our ``SubscriptionSnapshot``.

The billing period is on the subscription items in the current API
(``items.data[].current_period_end``), on the subscription in API versions
before 2025-03-31.basil; both are read. The schedule is the subscription's
``schedule`` when expanded, or the one passed in (webhooks reads it apart).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing_domain.errors import RuleViolated
from billing_domain.plans import BillingInterval, PlanType
from billing_domain.status import SubscriptionStatus, parse_status
from billing_domain.stripe_rules import can_charge, collection_paused, is_trial, pending_change
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot
from billing_domain.timestamps import from_unix

from billing_platform.stripe_reading.fields import (
    id_of,
    integer,
    listed,
    mapping,
    metadata,
    text,
    timestamp,
)
from billing_platform.stripe_reading.price import PriceCatalog, read_price

LIVE_SCHEDULE = frozenset({"not_started", "active"})


@dataclass(frozen=True, kw_only=True)
class SubscriptionReading:
    """The snapshot projections apply, plus what else Stripe says about the subscription."""

    snapshot: SubscriptionSnapshot
    item_id: str | None
    price_id: str | None
    quantity: int
    interval: str
    current_period_start: datetime | None
    trial_start: datetime | None
    is_trial: bool
    schedule_id: str | None
    tenant_hint: str | None
    created: datetime | None
    trial_end_behavior: str | None = None
    """``trial_settings.end_behavior.missing_payment_method``: create_invoice | pause | cancel."""
    collection_paused: bool = False
    """``pause_collection`` is set: invoices are not collected, the status is unchanged."""
    amount: int | None = None
    """What one billing interval costs: the first item's price ``unit_amount`` x quantity
    (minor units); ``None`` when the price is a bare id."""
    currency: str | None = None


def first_item(subscription: Mapping[str, Any]) -> Mapping[str, Any]:
    items = listed(subscription, "items")
    if not items:
        raise RuleViolated(
            f"subscription {subscription.get('id')!r} has no items", code="malformed_subscription"
        )
    return items[0]


def item_price(item: Mapping[str, Any]) -> Any:
    """An item's price (id or object); ``plan`` in API versions that still had it."""
    return item.get("price") or item.get("plan")


def read_subscription(
    subscription: Mapping[str, Any],
    catalog: PriceCatalog,
    *,
    schedule: Mapping[str, Any] | None = None,
) -> SubscriptionReading:
    subscription_id = text(subscription, "id")
    customer = id_of(subscription.get("customer"))
    raw_status = text(subscription, "status")
    if not subscription_id or not customer or not raw_status:
        raise RuleViolated(
            "subscription without id, customer or status", code="malformed_subscription"
        )
    item = first_item(subscription)
    price = item_price(item)
    plan = catalog.plan_of(price)
    interval = catalog.interval_of(price)
    status = parse_status(raw_status)
    end = timestamp(item, "current_period_end") or timestamp(subscription, "current_period_end")
    cancel_at = timestamp(subscription, "cancel_at")
    expanded = subscription.get("schedule")
    if schedule is None and isinstance(expanded, Mapping):
        schedule = expanded
    snapshot = SubscriptionSnapshot(
        subscription_id=subscription_id,
        customer_id=customer,
        plan=plan,
        status=status,
        # a cancel set for the period end (or earlier) is what the tenant sees as scheduled
        cancel_at_period_end=subscription.get("cancel_at_period_end") is True
        or (cancel_at is not None and end is not None and cancel_at <= end),
        current_period_end=end,
        trial_end=timestamp(subscription, "trial_end"),
        pending_plan=pending_from_schedule(schedule, plan, catalog, interval=interval)
        if schedule
        else None,
        has_payment_method=payment_method_known(subscription),
        interval=interval,
    )
    quantity = integer(item, "quantity", 1)
    priced = read_price(price) if isinstance(price, Mapping) else None
    return SubscriptionReading(
        snapshot=snapshot,
        item_id=text(item, "id"),
        price_id=id_of(price),
        quantity=quantity,
        interval=interval.value,
        current_period_start=timestamp(item, "current_period_start")
        or timestamp(subscription, "current_period_start"),
        trial_start=timestamp(subscription, "trial_start"),
        is_trial=is_trial(status=status),
        schedule_id=id_of(expanded) or id_of(schedule),
        tenant_hint=text(metadata(subscription), "tenant_id"),
        created=timestamp(subscription, "created"),
        amount=None if priced is None else priced.amount * quantity,
        currency=text(subscription, "currency") or (None if priced is None else priced.currency),
        trial_end_behavior=text(
            mapping(mapping(subscription, "trial_settings"), "end_behavior"),
            "missing_payment_method",
        ),
        collection_paused=collection_paused(subscription.get("pause_collection")),
    )


def payment_method_known(subscription: Mapping[str, Any]) -> bool | None:
    """``can_charge`` on the subscription and, when expanded, its customer."""
    customer = subscription.get("customer")
    customer_default = None
    if isinstance(customer, Mapping):
        customer_default = bool(
            id_of(mapping(customer, "invoice_settings").get("default_payment_method"))
            or id_of(customer.get("default_source"))
        )
    return can_charge(
        subscription_default=bool(
            id_of(subscription.get("default_payment_method"))
            or id_of(subscription.get("default_source"))
        ),
        customer_default=customer_default,
    )


def read_snapshot(
    subscription: Mapping[str, Any],
    catalog: PriceCatalog,
    *,
    schedule: Mapping[str, Any] | None = None,
) -> SubscriptionSnapshot:
    return read_subscription(subscription, catalog, schedule=schedule).snapshot


def is_live_schedule(schedule: Any) -> bool:
    return isinstance(schedule, Mapping) and schedule.get("status") in LIVE_SCHEDULE


def upcoming_phases(schedule: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The phases after the one running now, in order.

    With a ``current_phase``: those starting at or after its end (its start when it has
    no end). Without one: every phase of a ``not_started`` schedule (none runs yet), every
    phase but the first of an active one.
    """
    phases = sorted(listed(schedule, "phases"), key=lambda p: integer(p, "start_date"))
    current = schedule.get("current_phase")
    if isinstance(current, Mapping):
        end = integer(current, "end_date")
        if end:
            return [p for p in phases if integer(p, "start_date") >= end]
        start = integer(current, "start_date")
        return [p for p in phases if integer(p, "start_date") > start]
    if schedule.get("status") == "not_started":
        return phases
    return phases[1:]


def pending_from_schedule(
    schedule: Mapping[str, Any] | None,
    current: PlanType,
    catalog: PriceCatalog,
    *,
    interval: BillingInterval = BillingInterval.MONTH,
) -> PendingPlanChange | None:
    """The next different plan (or interval) a live schedule moves the subscription to,
    and when."""
    if schedule is None or not is_live_schedule(schedule):
        return None
    return pending_change(
        current, _phase_plans(upcoming_phases(schedule), catalog), interval=interval
    )


def phase_prices(schedule: Mapping[str, Any]) -> list[Any]:
    """The first item's price of every phase (ids, or objects when expanded)."""
    found = []
    for phase in listed(schedule, "phases"):
        items = listed(phase, "items")
        if items:
            found.append(item_price(items[0]))
    return found


def _phase_plans(
    phases: list[Mapping[str, Any]], catalog: PriceCatalog
) -> Iterator[tuple[PlanType, datetime, BillingInterval]]:
    for phase in phases:
        items = listed(phase, "items")
        start = integer(phase, "start_date")
        if items and start:
            price = item_price(items[0])
            yield catalog.plan_of(price), from_unix(start), catalog.interval_of(price)


def status_of(subscription: Mapping[str, Any]) -> SubscriptionStatus | None:
    raw = text(subscription, "status")
    return parse_status(raw) if raw else None
