"""Operators' failed-payment queue (``billing:admin``): the listing, retry-payment, remind,
and each tenant's audited actions. The listing never calls Stripe."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from billing_domain.auth import Action, Principal, authorize
from billing_domain.payment_recovery import (
    QUEUE_STATUSES,
    days_past_due,
    parse_currency,
    parse_queue_status,
)
from billing_domain.timestamps import to_rfc3339
from billing_platform.http.auth import CurrentPrincipal
from billing_platform.http.error_docs import error_responses
from billing_platform.http.errors import ApiError
from billing_platform.http.middleware import RequestId
from billing_platform.http.responses import JSONResponse
from billing_platform.stripe_budget import STRIPE
from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from subscriptions import payment_queue
from subscriptions.api import request_key, subscriptions_context
from subscriptions.commands import ListActions, ListPastDue, OperatorTenantAction
from subscriptions.ports import ActionRecord, PastDueRow, QueuePosition
from subscriptions.views import followable_url

router = APIRouter(prefix="/api/billing/admin", tags=["operators"])

MAX_TENANT = 200
MAX_BIGINT = 2**63 - 1
ERRORS = {
    401: "missing or invalid token",
    403: "the token lacks the billing:admin scope",
    404: "no tenant of that id is known to billing",
    409: "nothing is due: the tenant has no failed invoice (retry) or is not past due (remind)",
    422: "unknown filter value, bad cursor or bad body",
    429: "over the tenant's share of Stripe; retry after Retry-After seconds",
    503: "Stripe unavailable; retry",
    400: "the body cannot be read as JSON text",
}
TenantPath = Annotated[
    str, Path(min_length=1, max_length=MAX_TENANT, pattern=r"^[^\x00/]+$", description="tenant")
]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


class LastEmailOut(BaseModel):
    kind: str = Field(examples=["payment_failed"])
    subject_id: str | None
    to: str | None
    status: str = Field(examples=["sent"])
    sent_at: str = Field(description="RFC 3339")


class ActionOut(BaseModel):
    id: int
    tenant_id: str
    action: str = Field(examples=["retry_payment", "remind"])
    operator: str = Field(description="the operator's sub")
    requested_at: str = Field(description="RFC 3339")
    outcome: str = Field(
        examples=["pending", "requested", "stripe_paid", "stripe_declined", "nothing_due"]
    )
    detail: str | None
    reason: str | None
    stripe_invoice_id: str | None
    settled_at: str | None


class PastDueOut(BaseModel):
    tenant_id: str
    plan: str
    status: str = Field(examples=["past_due"])
    status_label: str
    amount_due: int | None = Field(description="minor units; null when no invoice failed")
    currency: str | None
    attempts: int | None = Field(description="Stripe's attempt_count of the failed invoice")
    next_payment_attempt: str | None = Field(
        description="RFC 3339; null: no automatic attempt (see stripe_gave_up)"
    )
    stripe_gave_up: bool = Field(description="an invoice failed and Stripe retries no more")
    past_due_since: str | None
    days_past_due: int | None
    hosted_invoice_url: str | None
    stripe_invoice_id: str | None
    last_email: LastEmailOut | None
    last_action: ActionOut | None


class PastDueList(BaseModel):
    tenants: list[PastDueOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")


class ActionList(BaseModel):
    actions: list[ActionOut]
    next_cursor: str | None


class ActionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "card replaced by phone"}]}
    )
    reason: str | None = Field(
        default=None, min_length=1, max_length=500, pattern=r"^[^\x00]*$", description="audited"
    )


class ActionAccepted(BaseModel):
    status: str = Field(examples=["requested"])
    action: ActionOut


async def _operator(principal: CurrentPrincipal) -> Principal:
    """A dependency so a tenant's token is a 403 before its body is judged."""
    authorize(principal, Action.OPERATE_PAYMENTS)
    return principal


Operator = Annotated[Principal, Depends(_operator)]


def _time(value: Any) -> str | None:
    return None if value is None else to_rfc3339(value)


def action_out(record: ActionRecord) -> ActionOut:
    return ActionOut(
        id=record.id,
        tenant_id=record.tenant_id,
        action=record.action.value,
        operator=record.operator_sub,
        requested_at=to_rfc3339(record.requested_at),
        outcome=record.outcome,
        detail=record.detail,
        reason=record.reason,
        stripe_invoice_id=record.stripe_invoice_id,
        settled_at=_time(record.settled_at),
    )


def row_out(row: PastDueRow, now: Any) -> PastDueOut:
    account = row.account
    failure = account.payment_failure
    email = row.last_email
    return PastDueOut(
        tenant_id=account.tenant_id,
        plan=account.plan.value,
        status=account.status.value,
        status_label=account.status.label,
        amount_due=None if failure is None else failure.amount_due.amount,
        currency=None if failure is None else failure.amount_due.currency,
        attempts=None if failure is None else failure.attempt_count,
        next_payment_attempt=None if failure is None else _time(failure.next_payment_attempt),
        stripe_gave_up=failure is not None and failure.next_payment_attempt is None,
        past_due_since=None if failure is None else _time(failure.since),
        days_past_due=None if failure is None else days_past_due(failure.since, now),
        hosted_invoice_url=None if failure is None else followable_url(failure.hosted_invoice_url),
        stripe_invoice_id=None if failure is None else failure.invoice_id,
        last_email=None
        if email is None
        else LastEmailOut(
            kind=email.kind,
            subject_id=email.subject_id,
            to=email.to,
            status=email.status,
            sent_at=to_rfc3339(email.sent_at),
        ),
        last_action=None if row.last_action is None else action_out(row.last_action),
    )


def _cursor(position: QueuePosition) -> str:
    raw = f"{position.amount}:{position.tenant_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(cursor: str) -> QueuePosition:
    bad = ApiError(422, "invalid_cursor", "cursor must be a value from next_cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        amount, tenant_id = raw.split(":", 1)
        value = int(amount)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if not -1 <= value <= MAX_BIGINT or not tenant_id or "\x00" in tenant_id:
        raise bad
    return QueuePosition(amount=value, tenant_id=tenant_id)


@router.get(
    "/past-due",
    summary="The failed-payment queue: tenants past due, unpaid, incomplete or paused",
    response_model=PastDueList,
    responses=error_responses(401, 403, 422, described=ERRORS),
)
async def past_due(
    request: Request,
    principal: Operator,
    status: Annotated[str | None, Query(max_length=32, description="past_due|unpaid|...")] = None,
    currency: Annotated[str | None, Query(max_length=8, description="ISO code")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=600)] = None,
    tenant_id: Annotated[
        str | None,
        Query(max_length=MAX_TENANT, pattern=r"^[^\x00]+$", description="only this tenant's row"),
    ] = None,
) -> PastDueList:
    context = subscriptions_context(request)
    cmd = ListPastDue(
        principal=principal,
        statuses=QUEUE_STATUSES if status is None else (parse_queue_status(status),),
        currency=None if currency is None else parse_currency(currency),
        after=None if cursor is None else _position(cursor),
        limit=limit + 1,
        tenant_id=tenant_id,
    )
    rows = await payment_queue.list_past_due(cmd, context.queue)
    page, more = rows[:limit], len(rows) > limit
    now = context.clock.now()
    next_cursor = None
    if more:
        last = page[-1].account
        failure = last.payment_failure
        amount = -1 if failure is None else failure.amount_due.amount
        next_cursor = _cursor(QueuePosition(amount=amount, tenant_id=last.tenant_id))
    return PastDueList(tenants=[row_out(row, now) for row in page], next_cursor=next_cursor)


@router.get(
    "/tenants/{tenant_id}/actions",
    summary="A tenant's audited operator actions, newest first",
    response_model=ActionList,
    responses=error_responses(401, 403, 404, 422, described=ERRORS),
)
async def tenant_actions(
    request: Request,
    principal: Operator,
    tenant_id: TenantPath,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$")] = None,
) -> ActionList:
    before = None if cursor is None else int(cursor)
    if before is not None and before > MAX_BIGINT:
        raise ApiError(422, "invalid_cursor", "cursor must be a value from next_cursor")
    context = subscriptions_context(request)
    cmd = ListActions(principal=principal, tenant_id=tenant_id, before=before, limit=limit + 1)
    records = await payment_queue.list_actions(cmd, context.reader, context.queue)
    page = records[:limit]
    more = len(records) > limit
    return ActionList(
        actions=[action_out(r) for r in page], next_cursor=str(page[-1].id) if more else None
    )


def _command(
    principal: Principal,
    tenant_id: str,
    request_id: str,
    idempotency_key: str | None,
    body: ActionIn | None,
) -> OperatorTenantAction:
    return OperatorTenantAction(
        principal=principal,
        tenant_id=tenant_id,
        request_key=request_key(idempotency_key),
        causation_id=request_id,
        reason=None if body is None else body.reason,
    )


@router.post(
    "/tenants/{tenant_id}/retry-payment",
    summary="Charge the tenant's failed invoice again with its default method (202: the "
    "result arrives by webhook)",
    status_code=202,
    response_model=ActionAccepted,
    responses=error_responses(400, 401, 403, 404, 409, 422, 429, 503, described=ERRORS),
)
async def retry_payment(
    request: Request,
    principal: Operator,
    tenant_id: TenantPath,
    request_id: RequestId,
    body: Annotated[ActionIn | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    context = subscriptions_context(request)
    cmd = _command(principal, tenant_id, request_id, idempotency_key, body)
    async with context.budget.spend(tenant_id, STRIPE):
        record = await payment_queue.retry_payment(
            cmd, context.reader, context.uow_factory, context.gateway, context.clock
        )
    accepted = ActionAccepted(status="requested", action=action_out(record))
    return JSONResponse(accepted.model_dump(), status_code=202)


@router.post(
    "/tenants/{tenant_id}/remind",
    summary="Ask the notifications service for the payment-failed email now "
    "(payment.reminder_requested; still at most one a day)",
    status_code=202,
    response_model=ActionAccepted,
    responses=error_responses(400, 401, 403, 404, 409, 422, described=ERRORS),
)
async def remind(
    request: Request,
    principal: Operator,
    tenant_id: TenantPath,
    request_id: RequestId,
    body: Annotated[ActionIn | None, Body()] = None,
) -> JSONResponse:
    context = subscriptions_context(request)
    cmd = _command(principal, tenant_id, request_id, None, body)
    record = await payment_queue.remind(cmd, context.reader, context.uow_factory, context.clock)
    accepted = ActionAccepted(status="requested", action=action_out(record))
    return JSONResponse(accepted.model_dump(), status_code=202)
