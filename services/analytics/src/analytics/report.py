"""The revenue metrics of a date range, computed from the ledger's daily sums (pure).

Balances (MRR, ARR, subscriptions by plan) are taken at the end of each bucket;
movements, payment failures and activity are summed over it; churn rates look back a
rolling 30 days from its end. The definitions are written in docs/metrics.md.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from billing_domain.plans import PAID_PLANS
from billing_domain.revenue import MovementKind

from analytics.ports import ActivityKind, FailureRecord, LedgerDays, MovementDay, PlanDay

CHURN_WINDOW = timedelta(days=30)
MOVEMENT_FIELDS = {
    MovementKind.NEW: "new_mrr",
    MovementKind.EXPANSION: "expansion_mrr",
    MovementKind.CONTRACTION: "contraction_mrr",
    MovementKind.CHURN: "churned_mrr",
    MovementKind.REACTIVATION: "reactivated_mrr",
}


class Interval(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date
    """Exclusive."""


def buckets(first: date, last: date, interval: Interval) -> list[Bucket]:
    """[first, last] cut into days, 7-day weeks from ``first``, or calendar months."""
    found: list[Bucket] = []
    start, stop = first, last + timedelta(days=1)
    while start < stop:
        if interval is Interval.DAY:
            end = start + timedelta(days=1)
        elif interval is Interval.WEEK:
            end = start + timedelta(days=7)
        else:
            end = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        found.append(Bucket(start, min(end, stop)))
        start = end
    return found


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def pct(part: float, whole: float) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 2)


class _Cumulative:
    """Running sums by day: ``before(d)`` is the sum of the values of every day < d."""

    def __init__(self, values: Iterable[tuple[date, int]]) -> None:
        by_day: dict[date, int] = defaultdict(int)
        for day, value in values:
            by_day[day] += value
        self._days = sorted(by_day)
        self._sums: list[int] = []
        total = 0
        for day in self._days:
            total += by_day[day]
            self._sums.append(total)

    def before(self, day: date) -> int:
        index = bisect_left(self._days, day)
        return self._sums[index - 1] if index else 0

    def between(self, start: date, end: date) -> int:
        return self.before(end) - self.before(start)


class _CurrencyLedger:
    def __init__(
        self,
        movements: Sequence[MovementDay],
        plans: Sequence[PlanDay],
        failures: list[FailureRecord],
    ) -> None:
        self.mrr = _Cumulative((m.day, m.delta) for m in movements)
        self.logos = _Cumulative((m.day, m.logos) for m in movements)
        self.moves = {
            kind: _Cumulative((m.day, m.delta) for m in movements if m.kind is kind)
            for kind in MOVEMENT_FIELDS
        }
        self.churned_logos = _Cumulative(
            (m.day, -m.logos) for m in movements if m.kind is MovementKind.CHURN
        )
        self.plans = {
            plan: _Cumulative((p.day, p.change) for p in plans if p.plan is plan)
            for plan in PAID_PLANS
        }
        dated = sorted(failures, key=lambda f: f.failed_at)
        self.failure_days = [f.failed_at.astimezone(UTC).date() for f in dated]
        self.failures = dated

    def failures_in(self, bucket: Bucket) -> list[FailureRecord]:
        first = bisect_left(self.failure_days, bucket.start)
        last = bisect_left(self.failure_days, bucket.end)
        return self.failures[first:last]

    def point(self, bucket: Bucket) -> dict[str, Any]:
        start, end = bucket.start, bucket.end
        mrr = self.mrr.before(end)
        lookback = end - CHURN_WINDOW
        churned_mrr = -self.moves[MovementKind.CHURN].between(lookback, end)
        contraction = -self.moves[MovementKind.CONTRACTION].between(lookback, end)
        point: dict[str, Any] = {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "mrr": mrr,
            "arr": 12 * mrr,
            "paying_subscriptions": self.logos.before(end),
            "active_subscriptions": {p.value: c.before(end) for p, c in self.plans.items()},
        }
        for kind, name in MOVEMENT_FIELDS.items():
            point[name] = abs(self.moves[kind].between(start, end))
        point["logo_churn_pct"] = pct(
            self.churned_logos.between(lookback, end), self.logos.before(lookback)
        )
        point["revenue_churn_pct"] = pct(churned_mrr + contraction, self.mrr.before(lookback))
        point.update(failure_figures(self.failures_in(bucket)))
        return point


def failure_figures(failures: Iterable[FailureRecord]) -> dict[str, Any]:
    failed = list(failures)
    recovered = [f for f in failed if f.recovered_at is not None]
    failed_amount = sum(f.amount_due for f in failed)
    recovered_amount = sum(f.recovered_amount or 0 for f in recovered)
    waits = [(f.recovered_at - f.failed_at).total_seconds() for f in recovered if f.recovered_at]
    return {
        "failed_payments": len(failed),
        "recovered_payments": len(recovered),
        "recovery_rate_pct": pct(len(recovered), len(failed)),
        "failed_amount": failed_amount,
        "recovered_amount": recovered_amount,
        "recovery_amount_pct": pct(recovered_amount, failed_amount),
        "median_time_to_recover_seconds": statistics.median(waits) if waits else None,
    }


def activity_figures(counts: dict[str, int]) -> dict[str, Any]:
    converted = counts.get(ActivityKind.TRIAL_CONVERTED, 0)
    lost = counts.get(ActivityKind.TRIAL_LOST, 0)
    created = counts.get(ActivityKind.CHECKOUT_CREATED, 0)
    completed = counts.get(ActivityKind.CHECKOUT_COMPLETED, 0)
    paid = counts.get(ActivityKind.INVOICE_PAID, 0)
    failed = counts.get(ActivityKind.PAYMENT_ATTEMPT_FAILED, 0)
    return {
        "trial_starts": counts.get(ActivityKind.TRIAL_STARTED, 0),
        "trial_conversions": converted,
        "trials_lost": lost,
        "trial_conversion_pct": pct(converted, converted + lost),
        "checkout_created": created,
        "checkout_completed": completed,
        "checkout_conversion_pct": pct(completed, created),
        "cancellations_scheduled": counts.get(ActivityKind.CANCEL_SCHEDULED, 0),
        "portal_sessions": counts.get(ActivityKind.PORTAL_SESSION, 0),
        "invoices_paid": paid,
        "payment_attempts_failed": failed,
        "payment_failure_pct": pct(failed, failed + paid),
    }


def build_report(days: LedgerDays, first: date, last: date, interval: Interval) -> dict[str, Any]:
    cuts = buckets(first, last, interval)
    whole = Bucket(first, last + timedelta(days=1))
    currencies = sorted({m.currency for m in days.movements} | {f.currency for f in days.failures})
    report: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "interval": interval.value,
        "currencies": {},
    }
    for currency in currencies:
        ledger = _CurrencyLedger(
            [m for m in days.movements if m.currency == currency],
            [p for p in days.plans if p.currency == currency],
            [f for f in days.failures if f.currency == currency],
        )
        totals = ledger.point(whole)
        totals["opening_mrr"] = ledger.mrr.before(first)
        report["currencies"][currency] = {
            "series": [ledger.point(bucket) for bucket in cuts],
            "totals": totals,
        }
    activity = {
        kind: _Cumulative((row.day, row.count) for row in days.activity if row.kind == kind)
        for kind in {row.kind for row in days.activity}
    }
    report["activity"] = {
        "series": [_activity_point(activity, bucket) for bucket in cuts],
        "totals": _activity_point(activity, whole),
    }
    return report


def _activity_point(activity: dict[str, _Cumulative], bucket: Bucket) -> dict[str, Any]:
    counts = {kind: sums.between(bucket.start, bucket.end) for kind, sums in activity.items()}
    span = {"start": bucket.start.isoformat(), "end": bucket.end.isoformat()}
    return span | activity_figures(counts)
