"""HTTP API (docs/architecture.md section 7): parse, authorize, call a use case, map the result."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from billing_domain.auth import Action, Principal, authorize
from billing_domain.errors import RuleViolated
from billing_domain.timestamps import ensure_utc
from billing_platform.http.auth import CurrentPrincipal, bearer_principal
from billing_platform.http.context import context_of
from billing_platform.http.error_docs import error_responses
from billing_platform.http.middleware import RequestId
from billing_platform.stripe_budget import STRIPE
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from subscriptions import use_cases
from subscriptions.commands import (
    CancelSubscription,
    ChangePlan,
    GetSubscription,
    PreviewProration,
    ResumeSubscription,
)
from subscriptions.context import SubscriptionsContext
from subscriptions.views import subscription_body

router = APIRouter(prefix="/api/billing", tags=["subscription"])

_KEY = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")
MIN_UNIX = 946_684_800  # 2000-01-01
MAX_UNIX = 253_402_300_799  # 9999-12-31


class PaymentFailedOut(BaseModel):
    amount_due: int = Field(examples=[2900], description="minor units")
    currency: str = Field(examples=["usd"])
    hosted_invoice_url: str | None
    next_payment_attempt: str | None = Field(description="RFC 3339, null once Stripe gave up")
    invoice_id: str | None = Field(
        default=None, description="the unpaid invoice (POST /api/billing/invoices/{id}/pay)"
    )
    since: str | None = Field(default=None, description="RFC 3339: when the invoice first failed")


class PendingPlanOut(BaseModel):
    plan: str = Field(examples=["solo"])
    effective_at: str = Field(description="RFC 3339")


class SubscriptionOut(BaseModel):
    tenant_id: str
    plan_type: str = Field(examples=["team"])
    status: str = Field(examples=["active"])
    status_label: str = Field(examples=["Active"])
    cancel_at_period_end: bool
    current_period_end: str | None = Field(description="RFC 3339")
    trial_end: str | None = Field(description="RFC 3339")
    payment_failed: PaymentFailedOut | None
    pending_plan: PendingPlanOut | None
    has_payment_method: bool = Field(description="Stripe can charge a payment method")
    trial_ends_in_days: int | None = Field(
        description="whole days left in the trial (rounded up) on the subscription's clock; "
        "null unless trialing"
    )


class PlanChangeOut(SubscriptionOut):
    effective: str = Field(examples=["now", "period_end"])


class PlanIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"plan": "enterprise"}]})
    plan: str = Field(min_length=1, max_length=64)


class PlanChangeIn(PlanIn):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"plan": "enterprise", "proration_date": 1767225600}]}
    )
    proration_date: StrictInt | datetime | None = Field(
        default=None,
        description=(
            "the proration_date a preview of this plan returned in the last 10 minutes "
            "(Unix seconds or RFC 3339); any other value is a 422 proration_date_not_issued; "
            "left out: now"
        ),
    )


class ProrationOut(BaseModel):
    proration_amount: int = Field(examples=[1000], description="minor units")
    next_invoice_amount: int = Field(examples=[10900], description="minor units")
    currency: str = Field(examples=["usd"])
    proration_date: int = Field(
        description="Unix seconds; pass it to the plan change within 10 minutes"
    )


ERROR_DESCRIPTIONS = {
    401: "missing or invalid token",
    403: "not the tenant's owner, or another tenant",
    409: "free plan, nothing to undo, already scheduled, same plan...",
    422: "invalid body or unknown plan",
    429: "over this tenant's share of Stripe; retry after Retry-After seconds",
    503: "Stripe unavailable; retry",
    400: "the body cannot be read as JSON text (bytes that are not UTF-8)",
}
CHANGE_ERRORS = error_responses(401, 403, 409, 422, 429, 503, described=ERROR_DESCRIPTIONS)
BODY_ERRORS = error_responses(400, 401, 403, 409, 422, 429, 503, described=ERROR_DESCRIPTIONS)

MAX_TENANT = 200
TenantQuery = Annotated[
    str | None,
    Query(alias="tenant_id", max_length=MAX_TENANT, description="defaults to the token's"),
]
TenantHeader = Annotated[str | None, Header(alias="X-Tenant-ID", max_length=MAX_TENANT)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _context(request: Request) -> SubscriptionsContext:
    return context_of(request, SubscriptionsContext)


def _tenant(principal: Principal, query: str | None, header: str | None) -> str:
    """The tenant acted on: the token's, unless the caller names one (then it must match)."""
    return query or header or principal.tenant_id


async def _owner_tenant(
    principal: CurrentPrincipal, tenant: TenantQuery = None, x_tenant: TenantHeader = None
) -> str:
    """The tenant of a change. A dependency, so FastAPI runs it before it validates the
    body: a member or another tenant is a 403 even with a body that would be a 422."""
    tenant_id = _tenant(principal, tenant, x_tenant)
    authorize(principal, Action.MANAGE_BILLING, tenant_id=tenant_id)
    return tenant_id


OwnerTenant = Annotated[str, Depends(_owner_tenant)]


def _request_key(idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return uuid.uuid4().hex
    if not _KEY.match(idempotency_key):
        raise RuleViolated(
            "Idempotency-Key: 1-200 letters, digits or . _ : -", code="bad_idempotency_key"
        )
    return idempotency_key


def _proration_date(value: int | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return ensure_utc(value, name="proration_date")
    if not MIN_UNIX <= value <= MAX_UNIX:
        raise RuleViolated("proration_date is out of range", code="bad_proration_date")
    return datetime.fromtimestamp(value, tz=UTC)


@router.get(
    "/subscription",
    summary="The tenant's plan and status (from the projection; never calls Stripe)",
    response_model=SubscriptionOut,
    responses=error_responses(
        401,
        403,
        422,
        described={**ERROR_DESCRIPTIONS, 422: "tenant_id or X-Tenant-ID longer than 200"},
    ),
    openapi_extra={
        "security": [{"HTTPBearer": []}],
        "parameters": [
            {
                "name": "tenant_id",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "maxLength": MAX_TENANT},
                "description": "defaults to the token's tenant; another tenant is a 403",
            },
            {
                "name": "X-Tenant-ID",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": MAX_TENANT},
            },
        ],
    },
)
async def get_subscription(request: Request) -> JSONResponse:
    """The hot path, kept lean: no dependency injection (the platform's verifier), one select."""
    context = _context(request)
    principal = bearer_principal(request)
    requested = request.query_params.get("tenant_id") or request.headers.get("x-tenant-id")
    if requested is not None and len(requested) > MAX_TENANT:
        raise RuleViolated(f"tenant_id is longer than {MAX_TENANT}", code="invalid_request")
    cmd = GetSubscription(principal=principal, tenant_id=requested or principal.tenant_id)
    account = await use_cases.get_subscription(cmd, context.reader)
    return JSONResponse(subscription_body(account, now=context.clock.now()))


@router.delete(
    "/subscription",
    summary="Cancel at the end of the paid period (owner)",
    response_model=SubscriptionOut,
    responses=CHANGE_ERRORS,
)
async def cancel_subscription(
    request: Request,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    context = _context(request)
    cmd = CancelSubscription(
        principal=principal,
        tenant_id=tenant_id,
        request_key=_request_key(idempotency_key),
        causation_id=request_id,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        account = await use_cases.cancel_subscription(
            cmd, context.uow_factory(), context.gateway, context.clock
        )
    return JSONResponse(subscription_body(account, now=context.clock.now()))


@router.post(
    "/subscription/resume",
    summary="Undo a scheduled cancellation (owner)",
    response_model=SubscriptionOut,
    responses=CHANGE_ERRORS,
)
async def resume_subscription(
    request: Request,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    context = _context(request)
    cmd = ResumeSubscription(
        principal=principal,
        tenant_id=tenant_id,
        request_key=_request_key(idempotency_key),
        causation_id=request_id,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        account = await use_cases.resume_subscription(
            cmd, context.uow_factory(), context.gateway, context.clock
        )
    return JSONResponse(subscription_body(account, now=context.clock.now()))


@router.post(
    "/proration",
    summary="What a plan change would cost (Stripe invoice preview; owner)",
    response_model=ProrationOut,
    responses=BODY_ERRORS,
)
async def preview_proration(
    request: Request,
    body: PlanIn,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
) -> ProrationOut:
    context = _context(request)
    cmd = PreviewProration(principal=principal, tenant_id=tenant_id, plan=body.plan)
    async with context.budget.spend(tenant_id, STRIPE):
        preview = await use_cases.preview_proration(
            cmd, context.reader, context.gateway, context.clock, context.quotes
        )
    return ProrationOut(
        proration_amount=preview.proration_amount.amount,
        next_invoice_amount=preview.next_invoice_amount.amount,
        currency=preview.next_invoice_amount.currency,
        proration_date=int(preview.proration_date.timestamp()),
    )


@router.post(
    "/subscription/plan",
    summary="Upgrade now (prorated) or downgrade at the period end (owner)",
    response_model=PlanChangeOut,
    responses=BODY_ERRORS,
)
async def change_plan(
    request: Request,
    body: PlanChangeIn,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    context = _context(request)
    cmd = ChangePlan(
        principal=principal,
        tenant_id=tenant_id,
        plan=body.plan,
        proration_date=_proration_date(body.proration_date),
        request_key=_request_key(idempotency_key),
        causation_id=request_id,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        result = await use_cases.change_plan(
            cmd, context.uow_factory(), context.gateway, context.clock
        )
    return JSONResponse(
        {
            **subscription_body(result.account, now=context.clock.now()),
            "effective": result.effective.value,
        }
    )
