"""MRR rules: what counts, a month's share of other intervals, how a change is named."""

from __future__ import annotations

import pytest

from billing_domain.plans import PlanType
from billing_domain.revenue import MovementKind, monthly_amount, movement_kind, mrr_of
from billing_domain.status import SubscriptionStatus as S

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("amount", "interval", "count", "monthly"),
    [
        (1900, "month", 1, 1900),
        (19000, "year", 1, 1583),  # 1583.33
        (9900, "year", 1, 825),
        (6, "year", 1, 1),  # 0.5 rounds half up
        (3000, "month", 3, 1000),
        (1000, "week", 1, 4333),  # 52/12 weeks a month
        (1000, "fortnight", 1, 1000),  # unknown: a month
    ],
)
def test_monthly_amount(amount: int, interval: str, count: int, monthly: int) -> None:
    assert monthly_amount(amount, interval, count) == monthly


@pytest.mark.parametrize(
    ("status", "plan", "counts"),
    [
        (S.ACTIVE, PlanType.SOLO, True),
        (S.PAST_DUE, PlanType.TEAM, True),
        (S.TRIALING, PlanType.TEAM, False),
        (S.ACTIVE, PlanType.FREE, False),
        (S.UNPAID, PlanType.SOLO, False),
        (S.PAUSED, PlanType.SOLO, False),
        (S.CANCELED, PlanType.SOLO, False),
        (S.INCOMPLETE, PlanType.SOLO, False),
    ],
)
def test_what_counts_toward_mrr(status: S, plan: PlanType, counts: bool) -> None:
    assert (mrr_of(status=status, plan=plan, amount=1000) > 0) is counts


def test_no_price_is_no_mrr() -> None:
    assert mrr_of(status=S.ACTIVE, plan=PlanType.SOLO, amount=None) == 0


@pytest.mark.parametrize(
    ("before", "after", "paid_before", "kind"),
    [
        (0, 100, False, MovementKind.NEW),
        (0, 100, True, MovementKind.REACTIVATION),
        (100, 200, True, MovementKind.EXPANSION),
        (200, 100, True, MovementKind.CONTRACTION),
        (100, 0, True, MovementKind.CHURN),
        (100, 100, True, None),
        (0, 0, False, None),
    ],
)
def test_movement_kind(
    before: int, after: int, paid_before: bool, kind: MovementKind | None
) -> None:
    assert movement_kind(before, after, paid_before=paid_before) == kind
