"""The analytics use cases' commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from billing_domain.auth import Principal

from analytics.report import Interval


@dataclass(frozen=True, kw_only=True)
class GetMetrics:
    principal: Principal
    first: date | None
    """First day of the range (UTC), inclusive; default: 29 days before ``last``."""
    last: date | None
    """Last day of the range (UTC), inclusive; default: today."""
    interval: Interval = Interval.DAY
