"""HTTP API of trials (architecture section 8.3): convert now (owner), its preview, and
the operators' extension with its audit (``billing:admin``)."""

from __future__ import annotations

from typing import Annotated

from billing_domain.auth import Action, authorize
from billing_domain.timestamps import to_rfc3339
from billing_domain.trials import MAX_EXTENSION_DAYS_PER_REQUEST, MAX_REASON_LENGTH
from billing_platform.http.auth import CurrentPrincipal
from billing_platform.http.error_docs import error_responses
from billing_platform.http.middleware import RequestId
from billing_platform.http.responses import JSONResponse
from billing_platform.stripe_budget import STRIPE
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from subscriptions import trials
from subscriptions.api import (
    CHANGE_ERRORS,
    ERROR_DESCRIPTIONS,
    MAX_TENANT,
    IdempotencyKey,
    OwnerTenant,
    SubscriptionOut,
    request_key,
    subscriptions_context,
)
from subscriptions.views import subscription_body

router = APIRouter(prefix="/api/billing", tags=["trials"])

TRIAL_ERRORS = {
    **ERROR_DESCRIPTIONS,
    409: "not in a trial (not_trialing), or no payment method yet (payment_method_required)",
}


class TrialEndPreviewOut(BaseModel):
    amount_due: int = Field(examples=[2900], description="minor units, charged at once")
    currency: str = Field(examples=["usd"])
    period_end: str | None = Field(description="RFC 3339: the end of the first paid period")


class ExtendTrialIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"extend_days": 7, "reason": "evaluating SSO"}]},
    )
    extend_days: StrictInt = Field(ge=1, le=MAX_EXTENSION_DAYS_PER_REQUEST)
    reason: StrictStr = Field(default="", max_length=MAX_REASON_LENGTH)


class TrialExtensionOut(BaseModel):
    id: int
    tenant_id: str
    stripe_subscription_id: str
    operator_sub: str
    reason: str
    extend_days: int
    previous_trial_end: str
    new_trial_end: str
    status: str = Field(examples=["applied"], description="pending while Stripe is called")
    created_at: str


class TrialExtendedOut(BaseModel):
    tenant_id: str
    previous_trial_end: str
    trial_end: str
    extend_days: int
    total_extended_days: int
    max_extension_days: int
    subscription: SubscriptionOut


TenantPath = Annotated[str, Path(min_length=1, max_length=MAX_TENANT)]


def _operator(principal: CurrentPrincipal) -> None:
    """Before the body is validated: a caller without ``billing:admin`` is a 403."""
    authorize(principal, Action.OPERATE_TRIALS)


@router.post(
    "/subscription/trial/end/preview",
    summary="What converting the trial now would charge (Stripe invoice preview; owner)",
    response_model=TrialEndPreviewOut,
    responses=error_responses(401, 403, 409, 429, 503, described=TRIAL_ERRORS),
)
async def preview_trial_end(
    request: Request, principal: CurrentPrincipal, tenant_id: OwnerTenant
) -> TrialEndPreviewOut:
    context = subscriptions_context(request)
    cmd = trials.PreviewTrialEnd(principal=principal, tenant_id=tenant_id)
    async with context.budget.spend(tenant_id, STRIPE):
        preview = await trials.preview_trial_end(cmd, context.reader, context.gateway)
    return TrialEndPreviewOut.model_validate(trials.trial_end_body(preview))


@router.post(
    "/subscription/trial/end",
    summary="End the trial now: the first invoice is charged at once (owner)",
    response_model=SubscriptionOut,
    responses=CHANGE_ERRORS | error_responses(409, described=TRIAL_ERRORS),
)
async def end_trial(
    request: Request,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    context = subscriptions_context(request)
    cmd = trials.EndTrial(
        principal=principal,
        tenant_id=tenant_id,
        request_key=request_key(idempotency_key),
        causation_id=request_id,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        account = await trials.end_trial_now(
            cmd, context.uow_factory(), context.gateway, context.clock
        )
    return JSONResponse(subscription_body(account, now=context.clock.now()))


@router.post(
    "/admin/tenants/{tenant_id}/trial",
    summary="Extend a tenant's trial, without proration (operator, billing:admin)",
    response_model=TrialExtendedOut,
    dependencies=[Depends(_operator)],
    responses=error_responses(
        400,
        401,
        403,
        404,
        409,
        422,
        429,
        503,
        described={
            **ERROR_DESCRIPTIONS,
            403: "the token lacks the billing:admin scope",
            404: "no billing account for this tenant",
            409: "not in a trial, or the tenant's extensions would pass TRIAL_MAX_EXTENSION_DAYS",
            422: "extend_days not an integer 1..30, reason longer than 500, unknown fields",
        },
    ),
)
async def extend_trial(
    request: Request,
    tenant_id: TenantPath,
    body: ExtendTrialIn,
    principal: CurrentPrincipal,
    request_id: RequestId,
) -> TrialExtendedOut:
    context = subscriptions_context(request)
    cmd = trials.ExtendTrial(
        principal=principal,
        tenant_id=tenant_id,
        extend_days=body.extend_days,
        reason=body.reason,
        causation_id=request_id,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        done = await trials.extend_trial(
            cmd,
            context.uow_factory(),
            context.reader,
            context.gateway,
            context.clock,
            max_extension_days=context.trial_max_extension_days,
        )
    account = done.account
    return TrialExtendedOut(
        tenant_id=tenant_id,
        previous_trial_end=to_rfc3339(done.extension.previous_trial_end),
        trial_end=to_rfc3339(account.trial_end or done.extension.new_trial_end),
        extend_days=done.extension.extend_days,
        total_extended_days=done.total_extended_days,
        max_extension_days=context.trial_max_extension_days,
        subscription=SubscriptionOut.model_validate(
            subscription_body(account, now=context.clock.now())
        ),
    )


@router.get(
    "/admin/trial-extensions",
    summary="The audit of trial extensions, newest first (operator, billing:admin)",
    response_model=list[TrialExtensionOut],
    responses=error_responses(401, 403, 422, described=ERROR_DESCRIPTIONS),
)
async def list_extensions(
    request: Request,
    principal: CurrentPrincipal,
    tenant_id: Annotated[str | None, Query(max_length=MAX_TENANT)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[TrialExtensionOut]:
    context = subscriptions_context(request)
    records = await trials.recent_extensions(
        principal, context.trial_extensions, tenant_id=tenant_id, limit=limit
    )
    return [
        TrialExtensionOut(
            id=r.id,
            tenant_id=r.tenant_id,
            stripe_subscription_id=r.subscription_id,
            operator_sub=r.operator_sub,
            reason=r.reason,
            extend_days=r.extend_days,
            previous_trial_end=to_rfc3339(r.previous_trial_end),
            new_trial_end=to_rfc3339(r.new_trial_end),
            status=r.status,
            created_at=to_rfc3339(r.created_at),
        )
        for r in records
    ]
