"""Monthly recurring revenue: what counts, how much a month, and how a change is named.

The definitions are Stripe Billing's (docs/metrics.md): a subscription counts toward
MRR while it is ``active`` or ``past_due`` on a paid plan (trials, free plans and every
other status count nothing); its MRR is what one billing interval costs, brought to a
month (a yearly price is a twelfth a month). A change of a tenant's MRR is one
movement: new, expansion, contraction, churn or reactivation.
"""

from __future__ import annotations

from enum import StrEnum

from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus

MRR_STATUSES = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE})

_MONTHS_PER_INTERVAL = {"month": (1, 1), "year": (12, 1), "week": (12, 52), "day": (12, 365)}
"""Months in one interval as (numerator, denominator): a week is 12/52 of a month."""


class MovementKind(StrEnum):
    NEW = "new"
    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    CHURN = "churn"
    REACTIVATION = "reactivation"
    OPENING = "opening"
    """The balance a backfill found, before the ledger's first event (no movement)."""


def counts_toward_mrr(status: SubscriptionStatus, plan: PlanType) -> bool:
    return status in MRR_STATUSES and plan.is_paid


def monthly_amount(amount: int, interval: str = "month", interval_count: int = 1) -> int:
    """``amount`` per ``interval_count`` ``interval``s as minor units a month, rounded half
    up (a yearly 9,900 is 825 a month). An unknown interval counts as a month."""
    months, per = _MONTHS_PER_INTERVAL.get(interval, (1, 1))
    denominator = months * max(1, interval_count)
    numerator = amount * per
    return (2 * numerator + denominator) // (2 * denominator)


def mrr_of(
    *, status: SubscriptionStatus, plan: PlanType, amount: int | None, interval: str = "month"
) -> int:
    """The MRR of a subscription as it stands (0 when it does not count or has no price)."""
    if amount is None or not counts_toward_mrr(status, plan):
        return 0
    return monthly_amount(amount, interval)


def movement_kind(before: int, after: int, *, paid_before: bool) -> MovementKind | None:
    """How a tenant's MRR moving from ``before`` to ``after`` is named; ``None`` for no move.

    ``paid_before``: the tenant had MRR at some earlier time (a return is a reactivation).
    """
    if before == after:
        return None
    if before == 0:
        return MovementKind.REACTIVATION if paid_before else MovementKind.NEW
    if after == 0:
        return MovementKind.CHURN
    return MovementKind.EXPANSION if after > before else MovementKind.CONTRACTION
