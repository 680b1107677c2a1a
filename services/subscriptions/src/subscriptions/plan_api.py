"""HTTP API of plan changes (docs/architecture.md section 8.2): the preview, the change
(``interval``, ``when``), undoing a scheduled change, and the tenant's entitlements."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from billing_domain.errors import RuleViolated
from billing_domain.timestamps import ensure_utc, to_rfc3339
from billing_platform.http.auth import CurrentPrincipal, bearer_principal
from billing_platform.http.error_docs import error_responses
from billing_platform.http.middleware import RequestId
from billing_platform.http.responses import JSONResponse
from billing_platform.stripe_budget import STRIPE
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from subscriptions import plan_changes
from subscriptions.api import (
    BODY_ERRORS,
    CHANGE_ERRORS,
    ERROR_DESCRIPTIONS,
    MAX_TENANT,
    IdempotencyKey,
    OwnerTenant,
    PendingPlanOut,
    SubscriptionOut,
    request_key,
    subscriptions_context,
    tenant_query_doc,
)
from subscriptions.commands import (
    ChangePlan,
    GetEntitlements,
    PreviewProration,
    WithdrawPendingChange,
)
from subscriptions.entitlements import get_entitlements
from subscriptions.views import pending_body, subscription_body

router = APIRouter(prefix="/api/billing", tags=["plan change"])

MIN_UNIX = 946_684_800  # 2000-01-01
MAX_UNIX = 253_402_300_799  # 9999-12-31


class PlanIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"plan": "team", "interval": "year", "when": "now"}]},
    )
    plan: str = Field(min_length=1, max_length=64)
    interval: Literal["month", "year"] | None = Field(
        default=None, description="billing interval of the new price; default: the current one"
    )
    when: Literal["now", "period_end"] | None = Field(
        default=None,
        description="default: upgrades now (prorated), downgrades at the period end",
    )


class PlanChangeIn(PlanIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"plan": "enterprise", "proration_date": 1767225600}]},
    )
    proration_date: StrictInt | datetime | None = Field(
        default=None,
        description=(
            "the proration_date a preview of this plan and interval returned in the last 10 "
            "minutes (Unix seconds or RFC 3339); any other value is a 422 "
            "proration_date_not_issued; left out: Stripe's now for the subscription"
        ),
    )


class ProrationOut(BaseModel):
    proration_amount: int = Field(examples=[1000], description="minor units")
    next_invoice_amount: int = Field(examples=[10900], description="minor units")
    currency: str = Field(examples=["usd"])
    proration_date: int = Field(
        description="Unix seconds (Stripe's now for the subscription, its test clock's time "
        "when it has one); pass it to the plan change within 10 minutes"
    )
    effective: str = Field(examples=["now", "period_end"], description="the choice previewed")
    effective_at: str = Field(description="RFC 3339")
    interval: str = Field(examples=["month", "year"])


class PlanChangeOut(SubscriptionOut):
    effective: str = Field(examples=["now", "period_end"])
    effective_at: str = Field(description="RFC 3339")


class WithdrawnOut(SubscriptionOut):
    withdrawn: PendingPlanOut = Field(description="the scheduled change that was undone")


class EntitlementsOut(BaseModel):
    tenant_id: str
    plan: str = Field(examples=["team"], description="the plan granted now (free without access)")
    features: dict[str, str | bool] = Field(
        examples=[{"support": "priority", "sso": False, "audit_log": True}]
    )
    limits: dict[str, int | None] = Field(
        examples=[{"seats": 20, "projects": 100, "api_calls_per_month": 1000000}],
        description="null is unlimited",
    )
    as_of: str = Field(description="RFC 3339: when the projection last changed")


def _proration_date(value: int | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return ensure_utc(value, name="proration_date")
    if not MIN_UNIX <= value <= MAX_UNIX:
        raise RuleViolated("proration_date is out of range", code="bad_proration_date")
    return datetime.fromtimestamp(value, tz=UTC)


@router.post(
    "/proration",
    summary="What a plan change would cost, for the same choice (Stripe invoice preview; owner)",
    response_model=ProrationOut,
    responses=BODY_ERRORS,
)
async def preview_proration(
    request: Request, body: PlanIn, principal: CurrentPrincipal, tenant_id: OwnerTenant
) -> ProrationOut:
    context = subscriptions_context(request)
    cmd = PreviewProration(
        principal=principal,
        tenant_id=tenant_id,
        plan=body.plan,
        interval=body.interval,
        when=body.when,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        result = await plan_changes.preview_proration(
            cmd, context.reader, context.gateway, context.clock, context.quotes
        )
    preview, decision = result.preview, result.decision
    return ProrationOut(
        proration_amount=preview.proration_amount.amount,
        next_invoice_amount=preview.next_invoice_amount.amount,
        currency=preview.next_invoice_amount.currency,
        proration_date=int(preview.proration_date.timestamp()),
        effective=decision.effective.value,
        effective_at=to_rfc3339(decision.effective_at),
        interval=decision.to_interval.value,
    )


@router.post(
    "/subscription/plan",
    summary="Change plan or interval, now (prorated) or at the period end (owner)",
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
    context = subscriptions_context(request)
    cmd = ChangePlan(
        principal=principal,
        tenant_id=tenant_id,
        plan=body.plan,
        interval=body.interval,
        when=body.when,
        proration_date=_proration_date(body.proration_date),
        request_key=request_key(idempotency_key),
        causation_id=request_id,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        result = await plan_changes.change_plan(
            cmd, context.uow_factory(), context.gateway, context.clock
        )
    return JSONResponse(
        {
            **subscription_body(result.account, now=context.clock.now()),
            "effective": result.effective.value,
            "effective_at": to_rfc3339(result.effective_at),
        }
    )


@router.delete(
    "/subscription/pending-change",
    summary="Undo a scheduled plan change (owner): the plan and price stay as they are",
    response_model=WithdrawnOut,
    responses=CHANGE_ERRORS,
)
async def withdraw_pending_change(
    request: Request,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    context = subscriptions_context(request)
    cmd = WithdrawPendingChange(
        principal=principal,
        tenant_id=tenant_id,
        request_key=request_key(idempotency_key),
        causation_id=request_id,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        account, withdrawn = await plan_changes.withdraw_pending_change(
            cmd, context.uow_factory(), context.gateway, context.clock
        )
    return JSONResponse(
        {
            **subscription_body(account, now=context.clock.now()),
            "withdrawn": pending_body(withdrawn),
        }
    )


@router.get(
    "/entitlements",
    summary="The features and limits a tenant may use (any member; a service token with "
    "billing:read for any tenant); from the projection, never Stripe",
    response_model=EntitlementsOut,
    responses=error_responses(
        401,
        403,
        404,
        422,
        described={
            **ERROR_DESCRIPTIONS,
            403: "another tenant (without the billing:read scope)",
            404: "a tenant billing does not know (asked for by a service)",
            422: "tenant_id longer than 200",
        },
    ),
    openapi_extra={
        "security": [{"HTTPBearer": []}],
        "parameters": [tenant_query_doc("defaults to the token's tenant")],
    },
)
async def entitlements(request: Request) -> JSONResponse:
    """A hot path like GET subscription: no dependency injection, one primary-key select."""
    context = subscriptions_context(request)
    principal = bearer_principal(request)
    requested = request.query_params.get("tenant_id")
    if requested is not None and (not requested or len(requested) > MAX_TENANT):
        raise RuleViolated(f"tenant_id must be 1-{MAX_TENANT} characters", code="invalid_request")
    cmd = GetEntitlements(principal=principal, tenant_id=requested or principal.tenant_id)
    granted = await get_entitlements(cmd, context.reader, context.clock)
    return JSONResponse(granted.body())
