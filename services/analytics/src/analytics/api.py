"""HTTP API of the analytics service: the operators' revenue metrics (``billing:admin``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from billing_platform.http.auth import CurrentPrincipal
from billing_platform.http.context import context_of
from billing_platform.http.error_docs import error_responses
from billing_platform.http.errors import ApiError
from billing_platform.http.responses import JSONResponse
from fastapi import APIRouter, Query, Request

from analytics import use_cases
from analytics.commands import GetMetrics
from analytics.context import AnalyticsContext
from analytics.report import Interval

router = APIRouter(tags=["operators"])

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, "bad_date", f"{name} must be a date (YYYY-MM-DD)") from None


@router.get(
    "/api/billing/admin/metrics",
    summary="Revenue metrics per currency: MRR and its movements, churn, trials, recovery",
    description=(
        "Computed from the MRR-movement ledger (never calls Stripe); definitions in "
        "docs/metrics.md. Days are UTC; `from` and `to` are inclusive."
    ),
    response_class=JSONResponse,
    responses=error_responses(
        401,
        403,
        422,
        described={
            403: "The token lacks the billing:admin scope.",
            422: "A bad date or interval, from after to, or a range too long for the interval "
            "(366 days by day, 732 by week, 1830 by month).",
        },
    ),
)
async def get_metrics(
    request: Request,
    principal: CurrentPrincipal,
    first: Annotated[str | None, Query(alias="from", max_length=10, pattern=DATE_PATTERN)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=10, pattern=DATE_PATTERN)] = None,
    interval: Annotated[Interval, Query()] = Interval.DAY,
) -> JSONResponse:
    context = context_of(request, AnalyticsContext)
    cmd = GetMetrics(
        principal=principal,
        first=_day(first, "from"),
        last=_day(last, "to"),
        interval=interval,
    )
    report: dict[str, Any] = await use_cases.get_metrics(cmd, context.reader, context.clock)
    # plain JSON values already: no per-field encoding pass over a year of buckets
    return JSONResponse(report)
