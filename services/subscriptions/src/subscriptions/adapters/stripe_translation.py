"""Stripe subscription payloads (plain dicts) -> the domain's ``SubscriptionSnapshot``.

Stripe puts the billing period on the subscription items (API 2025-03 and
later) and on the subscription in older versions; both are read. A scheduled
downgrade is the first phase of the subscription's schedule that starts after
the current one, on another plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billing_domain.errors import RuleViolated
from billing_domain.plans import PlanType, parse_plan
from billing_domain.status import parse_status
from billing_domain.subscription_snapshot import PendingPlanChange, SubscriptionSnapshot
from billing_domain.timestamps import from_unix, from_unix_or_none

LIVE_SCHEDULE = ("active", "not_started")


class PriceCatalog:
    """Plan <-> Stripe price: the configured ids first, then ``<plan>_...`` lookup keys."""

    def __init__(self, price_ids: Mapping[str, str]) -> None:
        self._price_by_plan = {parse_plan(plan): price for plan, price in price_ids.items()}
        self._plan_by_price = {price: plan for plan, price in self._price_by_plan.items()}

    def configured_price(self, plan: PlanType) -> str | None:
        return self._price_by_plan.get(plan)

    def remember(self, plan: PlanType, price_id: str) -> None:
        self._price_by_plan.setdefault(plan, price_id)
        self._plan_by_price.setdefault(price_id, plan)

    def plan_of(self, price: Mapping[str, Any] | str) -> PlanType:
        price_id = price if isinstance(price, str) else str(price.get("id"))
        known = self._plan_by_price.get(price_id)
        if known is not None:
            return known
        if isinstance(price, Mapping):
            plan = _plan_from_price_object(price)
            if plan is not None:
                self.remember(plan, price_id)
                return plan
        raise RuleViolated(f"price {price_id} is not one of the plans", code="unknown_price")

    def knows(self, price_id: str) -> bool:
        return price_id in self._plan_by_price


def _plan_from_price_object(price: Mapping[str, Any]) -> PlanType | None:
    candidates = [
        (price.get("metadata") or {}).get("plan"),
        str(price.get("lookup_key") or "").split("_", 1)[0],
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate:
            try:
                plan = parse_plan(candidate)
            except RuleViolated:
                continue
            if plan.is_paid:
                return plan
    return None


def first_item(subscription: Mapping[str, Any]) -> Mapping[str, Any]:
    items = (subscription.get("items") or {}).get("data") or []
    if not items:
        raise RuleViolated(
            f"subscription {subscription.get('id')} has no items", code="bad_subscription"
        )
    item: Mapping[str, Any] = items[0]
    return item


def price_id_of(price: Mapping[str, Any] | str) -> str:
    return price if isinstance(price, str) else str(price["id"])


def snapshot_from_subscription(
    subscription: Mapping[str, Any], catalog: PriceCatalog
) -> SubscriptionSnapshot:
    """``subscription`` may carry its schedule expanded (``expand=["schedule"]``)."""
    item = first_item(subscription)
    plan = catalog.plan_of(item["price"])
    status = parse_status(str(subscription["status"]))
    period_end = item.get("current_period_end") or subscription.get("current_period_end")
    schedule = subscription.get("schedule")
    customer = subscription["customer"]
    cancel_at = subscription.get("cancel_at")
    return SubscriptionSnapshot(
        subscription_id=str(subscription["id"]),
        customer_id=customer if isinstance(customer, str) else str(customer["id"]),
        plan=plan,
        status=status,
        # A cancel set for the period end (or earlier) is what the tenant sees as scheduled.
        cancel_at_period_end=subscription.get("cancel_at_period_end") is True
        or (cancel_at is not None and period_end is not None and cancel_at <= period_end),
        current_period_end=from_unix_or_none(period_end),
        trial_end=from_unix_or_none(subscription.get("trial_end")),
        pending_plan=pending_from_schedule(schedule, plan, catalog)
        if isinstance(schedule, Mapping)
        else None,
    )


def pending_from_schedule(
    schedule: Mapping[str, Any], current: PlanType, catalog: PriceCatalog
) -> PendingPlanChange | None:
    if schedule.get("status") not in LIVE_SCHEDULE:
        return None
    phases = schedule.get("phases") or []
    current_phase = schedule.get("current_phase") or {}
    started = current_phase.get("start_date")
    upcoming = [p for p in phases if started is None or p["start_date"] > started]
    if started is None:
        upcoming = upcoming[1:]  # the first phase is the one running now
    for phase in upcoming:
        items = phase.get("items") or []
        if not items:
            continue
        plan = catalog.plan_of(items[0]["price"])
        if plan is not current:
            return PendingPlanChange(plan=plan, effective_at=from_unix(int(phase["start_date"])))
        return None
    return None
