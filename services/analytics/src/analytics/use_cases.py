"""The analytics use cases: plain async functions over the ports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from billing_domain.auth import Action, authorize
from billing_domain.clock import Clock
from billing_domain.errors import RuleViolated

from analytics.commands import GetMetrics
from analytics.ports import MetricsReader
from analytics.report import CHURN_WINDOW, Interval, build_report, midnight

DEFAULT_DAYS = 30
MAX_DAYS = {Interval.DAY: 366, Interval.WEEK: 2 * 366, Interval.MONTH: 5 * 366}
"""The longest range each interval answers (a larger one is a 422)."""


async def get_metrics(cmd: GetMetrics, reader: MetricsReader, clock: Clock) -> dict[str, Any]:
    authorize(cmd.principal, Action.READ_REVENUE_METRICS)
    last = cmd.last or clock.now().date()
    first = cmd.first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise RuleViolated("from is after to", code="bad_range")
    days = (last - first).days + 1
    if days > MAX_DAYS[cmd.interval]:
        raise RuleViolated(
            f"a {cmd.interval.value} range covers at most {MAX_DAYS[cmd.interval]} days",
            code="range_too_long",
        )
    until = midnight(last + timedelta(days=1))
    ledger = await reader.ledger_days(since=midnight(first) - CHURN_WINDOW, until=until)
    return build_report(ledger, first, last, cmd.interval)
