"""Folding a subscription's new state into a tenant's revenue: movements and activity.

Pure: the projection reads the tenant's ``TenantRevenue``, calls ``fold_subscription``
and writes what it answers. A state older than the one applied (by the Stripe event's
``created``) changes nothing, so late copies are no-ops; a newer event lands at its own
Stripe time, however late it arrives.

Stripe's ``created`` has whole seconds, and one request often makes several events in
the same second (``customer.subscription.created`` incomplete, then ``.updated``
active; a test clock stamps a whole renewal with its frozen time). Event ids are random,
so they cannot order such a tie: the event that arrives later is applied (Stripe sends
a subscription's events in the order they happened, and each carries the whole
subscription as it then stood), and the ids applied in that second are remembered in
the mark (``as_of_event``, space-separated), so a replay of any of them changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from billing_domain.events import SubscriptionEvent
from billing_domain.revenue import (
    MovementKind,
    counts_toward_mrr,
    movement_kind,
    mrr_of,
)
from billing_domain.status import SubscriptionStatus

from analytics.ports import Activity, ActivityKind, Movement, TenantRevenue


@dataclass(frozen=True, kw_only=True)
class Fold:
    state: TenantRevenue | None
    """The state to save; ``None`` when the event was stale (nothing changes)."""
    movements: list[Movement] = field(default_factory=list)
    activity: list[Activity] = field(default_factory=list)


def event_time(event: SubscriptionEvent) -> datetime:
    return event.stripe_created or event.occurred_at


def interval_of(event: SubscriptionEvent) -> str:
    """The billing interval the event names (``interval``, optional: month by default)."""
    value = getattr(event, "interval", None)
    return value if isinstance(value, str) and value else "month"


MARK_SEPARATOR = " "


def _applied_in_the_marks_second(state: TenantRevenue) -> list[str]:
    return state.as_of_event.split(MARK_SEPARATOR)


def is_stale(state: TenantRevenue | None, event: SubscriptionEvent) -> bool:
    """Older than the state applied, or one of the events applied in its second."""
    if state is None:
        return False
    at = event_time(event)
    if at != state.as_of:
        return at < state.as_of
    return event.causation_id in _applied_in_the_marks_second(state)


def _mark_after(state: TenantRevenue | None, event: SubscriptionEvent) -> str:
    if state is None or event_time(event) != state.as_of:
        return event.causation_id
    return MARK_SEPARATOR.join([*_applied_in_the_marks_second(state), event.causation_id])


def fold_subscription(state: TenantRevenue | None, event: SubscriptionEvent) -> Fold:
    if is_stale(state, event):
        return Fold(state=None)
    at = event_time(event)
    same_subscription = state is not None and state.subscription_id == event.stripe_subscription_id
    amount = event.amount
    if amount is None and state is not None and same_subscription and state.plan == event.plan:
        amount = state.amount  # a publisher that did not read the price: keep the last one
    currency = event.currency or (state.currency if state is not None else None)
    interval = interval_of(event)
    after = mrr_of(status=event.status, plan=event.plan, amount=amount, interval=interval)
    paid_before = state.paid_before if state is not None else False
    new_state = TenantRevenue(
        tenant_id=event.tenant_id,
        subscription_id=event.stripe_subscription_id,
        status=event.status,
        plan=event.plan,
        currency=currency,
        amount=amount,
        interval=interval,
        mrr=after,
        cancel_at_period_end=event.cancel_at_period_end,
        paid_before=paid_before or after > 0,
        as_of=at,
        as_of_event=_mark_after(state, event),
    )
    return Fold(
        state=new_state,
        movements=_movements(state, new_state, event),
        activity=_activity(state, new_state, event, same_subscription=same_subscription),
    )


def _movements(
    state: TenantRevenue | None, new: TenantRevenue, event: SubscriptionEvent
) -> list[Movement]:
    before = state.mrr if state is not None else 0
    old_currency = state.currency if state is not None else None
    paid_before = state.paid_before if state is not None else False

    def move(currency: str, kind: MovementKind, mrr_before: int, mrr_after: int) -> Movement:
        return Movement(
            tenant_id=new.tenant_id,
            subscription_id=new.subscription_id,
            currency=currency,
            kind=kind,
            mrr_before=mrr_before,
            mrr_after=mrr_after,
            plan_before=state.plan if state is not None else None,
            plan_after=new.plan,
            occurred_at=new.as_of,
            event_id=event.causation_id,
        )

    if before > 0 and new.mrr > 0 and old_currency and new.currency not in (None, old_currency):
        # a move to another currency: churn in the old one, a return in the new one
        return [
            move(old_currency, MovementKind.CHURN, before, 0),
            move(str(new.currency), MovementKind.REACTIVATION, 0, new.mrr),
        ]
    kind = movement_kind(before, new.mrr, paid_before=paid_before)
    currency = new.currency or old_currency
    if kind is None or currency is None:
        return []
    return [move(currency, kind, before, new.mrr)]


def _activity(
    state: TenantRevenue | None,
    new: TenantRevenue,
    event: SubscriptionEvent,
    *,
    same_subscription: bool,
) -> list[Activity]:
    found: list[Activity] = []
    previous = state.status if state is not None and same_subscription else None

    def fact(kind: str, key: str) -> None:
        found.append(
            Activity(
                kind=kind,
                key=key,
                tenant_id=new.tenant_id,
                occurred_at=new.as_of,
                currency=new.currency,
            )
        )

    trialing = SubscriptionStatus.TRIALING
    if new.status is trialing and previous is not trialing:
        fact(ActivityKind.TRIAL_STARTED, new.subscription_id)
    if previous is trialing and new.status is not trialing:
        converted = counts_toward_mrr(new.status, new.plan)
        kind = ActivityKind.TRIAL_CONVERTED if converted else ActivityKind.TRIAL_LOST
        fact(kind, new.subscription_id)
    was_scheduled = state is not None and same_subscription and state.cancel_at_period_end
    if new.cancel_at_period_end and not was_scheduled and not new.status.is_ended:
        fact(ActivityKind.CANCEL_SCHEDULED, f"{new.subscription_id}/{event.causation_id}")
    return found
