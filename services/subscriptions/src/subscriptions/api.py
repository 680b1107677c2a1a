"""HTTP API (docs/architecture.md section 7): parse, authorize, call a use case, map the result."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from billing_domain.auth import Action, Principal, authorize
from billing_domain.errors import RuleViolated
from billing_platform.http.auth import CurrentPrincipal, bearer_principal
from billing_platform.http.context import context_of
from billing_platform.http.error_docs import error_responses
from billing_platform.http.middleware import RequestId
from billing_platform.http.responses import JSONResponse
from billing_platform.stripe_budget import STRIPE
from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from subscriptions import use_cases
from subscriptions.commands import (
    CancelSubscription,
    GetSubscription,
    ResumeSubscription,
)
from subscriptions.context import SubscriptionsContext
from subscriptions.views import pending_body, subscription_body

router = APIRouter(prefix="/api/billing", tags=["subscription"])

_KEY = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")


class CardOut(BaseModel):
    brand: str | None = Field(examples=["visa"], description="Stripe's card brand")
    last4: str = Field(examples=["0341"])


class PaymentAttemptOut(BaseModel):
    at: str | None = Field(description="RFC 3339: when Stripe tried")
    outcome: Literal["declined", "action_required"] = Field(
        description="declined (the charge failed), action_required (3-D Secure waits for "
        "the customer)"
    )
    decline_code: str | None = Field(
        default=None,
        examples=["insufficient_funds"],
        description="Stripe's decline code of the card (else its error code: expired_card, "
        "incorrect_cvc ...); for pages to put in words, never to show as is",
    )
    card: CardOut | None = Field(default=None, description="the card it was tried with")


class PaymentFailedOut(BaseModel):
    amount_due: int = Field(examples=[2900], description="minor units")
    currency: str = Field(examples=["usd"])
    hosted_invoice_url: str | None
    next_payment_attempt: str | None = Field(description="RFC 3339, null once Stripe gave up")
    invoice_id: str | None = Field(
        default=None, description="the unpaid invoice (POST /api/billing/invoices/{id}/pay)"
    )
    since: str | None = Field(default=None, description="RFC 3339: when the invoice first failed")
    attempt_count: int = Field(default=1, description="payment attempts of the invoice so far")
    requires_action: bool = Field(
        default=False,
        description="the latest attempt waits for the customer (3-D Secure): confirm it on "
        "the hosted invoice page",
    )
    decline_code: str | None = Field(
        default=None,
        examples=["insufficient_funds"],
        description="why the latest attempt failed: Stripe's decline code (else its error "
        "code); null when unknown or for 3-D Secure",
    )
    card: CardOut | None = Field(
        default=None, description="the card the latest attempt was made with, when known"
    )
    attempts: list[PaymentAttemptOut] = Field(
        default_factory=list,
        description="the attempts of the invoice we heard of, oldest first (a timeline)",
    )


class EndedOut(BaseModel):
    reason: str = Field(
        examples=["payment_failed"],
        description="payment_failed (Stripe gave up collecting), cancellation_requested, canceled",
    )
    plan: str = Field(examples=["team"], description="the plan it had")


class PendingPlanOut(BaseModel):
    plan: str = Field(examples=["solo"])
    effective_at: str = Field(description="RFC 3339")
    interval: str = Field(examples=["month"], description="the pending price's interval")


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
    interval: str = Field(examples=["month", "year"], description="billing interval")
    ended: EndedOut | None = Field(
        default=None, description="why the last subscription ended; null once a new one starts"
    )


class CancelOut(SubscriptionOut):
    pending_change_dropped: PendingPlanOut | None = Field(
        description="the scheduled plan change this cancellation withdrew (not kept), if any"
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


def subscriptions_context(request: Request) -> SubscriptionsContext:
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


def read_tenant(request: Request) -> tuple[Principal, str]:
    """The caller and the tenant of a tenant's read (the subscription, its cards, its
    invoices), without dependency injection: FastAPI solves a route's dependency graph
    on every request, about a quarter of such a read's CPU (bench.subscription_read).
    The caller is the platform's verifier's (``bearer_principal``: 401 first); the
    tenant is ``?tenant_id=`` or ``X-Tenant-ID``, the token's by default (an empty one
    is absent, as with the dependencies), which the caller must be allowed to read
    (403 before the route looks at its other parameters; the use case asks again). A
    route taking it documents both with ``TENANT_READ_DOCS``."""
    principal = bearer_principal(request)
    requested = request.query_params.get("tenant_id") or request.headers.get("x-tenant-id")
    if requested is not None and len(requested) > MAX_TENANT:
        raise RuleViolated(f"tenant_id is longer than {MAX_TENANT}", code="invalid_request")
    tenant_id = requested or principal.tenant_id
    authorize(principal, Action.READ_SUBSCRIPTION, tenant_id=tenant_id)
    return principal, tenant_id


def tenant_query_doc(description: str) -> dict[str, Any]:
    """The OpenAPI parameter ``?tenant_id=`` of a route that reads it itself."""
    return {
        "name": "tenant_id",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "maxLength": MAX_TENANT},
        "description": description,
    }


TENANT_READ_DOCS: dict[str, Any] = {
    "security": [{"HTTPBearer": []}],
    "parameters": [
        tenant_query_doc("defaults to the token's tenant; another tenant is a 403"),
        {
            "name": "X-Tenant-ID",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_TENANT},
        },
    ],
}
"""``openapi_extra`` of a route that reads its caller with ``read_tenant``."""


def request_key(idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return uuid.uuid4().hex
    if not _KEY.match(idempotency_key):
        raise RuleViolated(
            "Idempotency-Key: 1-200 letters, digits or . _ : -", code="bad_idempotency_key"
        )
    return idempotency_key


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
    openapi_extra=TENANT_READ_DOCS,
)
async def get_subscription(request: Request) -> JSONResponse:
    """A hot path: no dependency injection (``read_tenant``), one primary-key select."""
    context = subscriptions_context(request)
    principal, tenant_id = read_tenant(request)
    cmd = GetSubscription(principal=principal, tenant_id=tenant_id)
    account = await use_cases.get_subscription(cmd, context.reader)
    return JSONResponse(subscription_body(account, now=context.clock.now()))


@router.delete(
    "/subscription",
    summary="Cancel at the end of the paid period (owner); a scheduled plan change is dropped",
    response_model=CancelOut,
    responses=CHANGE_ERRORS,
)
async def cancel_subscription(
    request: Request,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    context = subscriptions_context(request)
    cmd = CancelSubscription(
        principal=principal,
        tenant_id=tenant_id,
        request_key=request_key(idempotency_key),
        causation_id=request_id,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        result = await use_cases.cancel_subscription(
            cmd, context.uow_factory(), context.gateway, context.clock
        )
    dropped = result.dropped_pending
    return JSONResponse(
        {
            **subscription_body(result.account, now=context.clock.now()),
            "pending_change_dropped": None if dropped is None else pending_body(dropped),
        }
    )


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
    context = subscriptions_context(request)
    cmd = ResumeSubscription(
        principal=principal,
        tenant_id=tenant_id,
        request_key=request_key(idempotency_key),
        causation_id=request_id,
    )
    async with context.budget.spend(tenant_id, STRIPE):
        account = await use_cases.resume_subscription(
            cmd, context.uow_factory(), context.gateway, context.clock
        )
    return JSONResponse(subscription_body(account, now=context.clock.now()))
