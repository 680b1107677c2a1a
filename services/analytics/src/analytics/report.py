"""The revenue metrics of a date range, computed from the ledger's daily sums (pure).

Balances (MRR, ARR, subscriptions by plan) are taken at the end of each bucket;
movements, payment failures and activity are summed over it; churn rates look back a
rolling 30 days from its end. The definitions are written in docs/metrics.md.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from itertools import accumulate
from typing import Any

from billing_domain.plans import PAID_PLANS, PlanType
from billing_domain.revenue import MovementKind

from analytics.ports import ActivityKind, FailureDay, LedgerDays, MovementDay, PlanDay

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


def running_sums(values: Iterable[tuple[date, int]], origin: int, span: int) -> list[int]:
    """``sums[i]``: the sum of the values of every day before day ``origin + i`` (a date's
    ordinal), for i in [0, span]; the days before ``origin`` are folded into ``sums[0]``."""
    by_offset = [0] * span
    opening = 0
    for day, value in values:
        offset = day.toordinal() - origin
        if offset < 0:
            opening += value
        elif offset < span:
            by_offset[offset] += value
    return list(accumulate(by_offset, initial=opening))


@dataclass(frozen=True)
class Window:
    """The days a report reads, from 30 days before its first bucket to its last day, as
    offsets from the first: a bucket's sums are two list lookups."""

    origin: int
    """The first day's ordinal."""
    span: int
    """Days from the first to the end of the range (exclusive)."""

    @classmethod
    def of(cls, first: date, last: date) -> Window:
        origin = (first - CHURN_WINDOW).toordinal()
        return cls(origin, last.toordinal() + 1 - origin)

    def sums(self, values: Iterable[tuple[date, int]]) -> list[int]:
        return running_sums(values, self.origin, self.span)

    def offsets(self, bucket: Bucket) -> tuple[int, int]:
        return bucket.start.toordinal() - self.origin, bucket.end.toordinal() - self.origin


class _Failures:
    """Payment failures by the day of their first failure, summed over a bucket."""

    def __init__(self, days: Sequence[FailureDay], window: Window) -> None:
        self.failed = window.sums((f.day, f.failed) for f in days)
        self.failed_amount = window.sums((f.day, f.failed_amount) for f in days)
        self.recovered = window.sums((f.day, f.recovered) for f in days)
        self.recovered_amount = window.sums((f.day, f.recovered_amount) for f in days)
        recovered = sorted((f for f in days if f.waits), key=lambda f: f.day)
        self._wait_offsets = [f.day.toordinal() - window.origin for f in recovered]
        self._waits = [f.waits for f in recovered]

    def figures(self, start: int, end: int) -> dict[str, Any]:
        failed = self.failed[end] - self.failed[start]
        recovered = self.recovered[end] - self.recovered[start]
        failed_amount = self.failed_amount[end] - self.failed_amount[start]
        recovered_amount = self.recovered_amount[end] - self.recovered_amount[start]
        first = bisect_left(self._wait_offsets, start)
        last = bisect_left(self._wait_offsets, end)
        waits = [wait for day_waits in self._waits[first:last] for wait in day_waits]
        return {
            "failed_payments": failed,
            "recovered_payments": recovered,
            "recovery_rate_pct": pct(recovered, failed),
            "failed_amount": failed_amount,
            "recovered_amount": recovered_amount,
            "recovery_amount_pct": pct(recovered_amount, failed_amount),
            "median_time_to_recover_seconds": statistics.median(waits) if waits else None,
        }


class _CurrencyLedger:
    def __init__(
        self,
        movements: Sequence[MovementDay],
        plans: Sequence[PlanDay],
        failures: Sequence[FailureDay],
        window: Window,
    ) -> None:
        by_kind: dict[MovementKind, list[MovementDay]] = {kind: [] for kind in MOVEMENT_FIELDS}
        for m in movements:
            if m.kind in by_kind:  # an opening balance is in MRR but no movement
                by_kind[m.kind].append(m)
        by_plan: dict[PlanType, list[tuple[date, int]]] = {plan: [] for plan in PAID_PLANS}
        for p in plans:
            if p.plan in by_plan:
                by_plan[p.plan].append((p.day, p.change))
        self.window = window
        self.mrr = window.sums((m.day, m.delta) for m in movements)
        self.logos = window.sums((m.day, m.logos) for m in movements)
        self.moves = {
            kind: window.sums((m.day, m.delta) for m in moved) for kind, moved in by_kind.items()
        }
        self.churned_logos = window.sums((m.day, -m.logos) for m in by_kind[MovementKind.CHURN])
        self.plans = {plan.value: window.sums(changes) for plan, changes in by_plan.items()}
        self.failures = _Failures(failures, window)

    def point(self, bucket: Bucket) -> dict[str, Any]:
        start, end = self.window.offsets(bucket)
        lookback = end - CHURN_WINDOW.days
        mrr = self.mrr[end]
        churn = self.moves[MovementKind.CHURN]
        contraction = self.moves[MovementKind.CONTRACTION]
        point: dict[str, Any] = {
            "start": bucket.start.isoformat(),
            "end": bucket.end.isoformat(),
            "mrr": mrr,
            "arr": 12 * mrr,
            "paying_subscriptions": self.logos[end],
            "active_subscriptions": {plan: sums[end] for plan, sums in self.plans.items()},
        }
        for kind, name in MOVEMENT_FIELDS.items():
            sums = self.moves[kind]
            point[name] = abs(sums[end] - sums[start])
        point["logo_churn_pct"] = pct(
            self.churned_logos[end] - self.churned_logos[lookback], self.logos[lookback]
        )
        lost = (churn[lookback] - churn[end]) + (contraction[lookback] - contraction[end])
        point["revenue_churn_pct"] = pct(lost, self.mrr[lookback])
        point.update(self.failures.figures(start, end))
        return point


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
    window = Window.of(first, last)
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
            window,
        )
        totals = ledger.point(whole)
        totals["opening_mrr"] = ledger.mrr[window.offsets(whole)[0]]
        report["currencies"][currency] = {
            "series": [ledger.point(bucket) for bucket in cuts],
            "totals": totals,
        }
    counted: dict[str, list[tuple[date, int]]] = {}
    for row in days.activity:
        counted.setdefault(row.kind, []).append((row.day, row.facts))
    activity = {kind: window.sums(counts) for kind, counts in counted.items()}
    report["activity"] = {
        "series": [_activity_point(activity, window, bucket) for bucket in cuts],
        "totals": _activity_point(activity, window, whole),
    }
    return report


def _activity_point(
    activity: dict[str, list[int]], window: Window, bucket: Bucket
) -> dict[str, Any]:
    start, end = window.offsets(bucket)
    counts = {kind: sums[end] - sums[start] for kind, sums in activity.items()}
    span = {"start": bucket.start.isoformat(), "end": bucket.end.isoformat()}
    return span | activity_figures(counts)
