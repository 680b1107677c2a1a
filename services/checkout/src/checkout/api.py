"""HTTP routes of the checkout service: parse, call a use case, shape the answer.

Paths, fields and status codes are the contract of docs/architecture.md section 7.
"""

from __future__ import annotations

from typing import Annotated

from billing_domain.auth import Action, Principal, authorize
from billing_domain.errors import GatewayUnavailable
from billing_platform.http.auth import CurrentPrincipal
from billing_platform.http.context import context_of
from billing_platform.http.error_docs import error_responses
from billing_platform.http.middleware import RequestId
from billing_platform.http.responses import JSONResponse
from billing_platform.stripe_budget import STRIPE
from fastapi import APIRouter, Body, Depends, Header, Request, Response

from checkout import metrics
from checkout.api_models import (
    ERROR_DESCRIPTIONS,
    CheckoutBody,
    CheckoutSessionOut,
    PlansOut,
    PortalOut,
    SavedCardOut,
    SetupOut,
    TrialOut,
    VerifyBody,
    VerifyOut,
)
from checkout.bootstrap import SESSIONS
from checkout.card_setup import start_card_setup
from checkout.commands import OpenPortal, StartCardSetup, StartCheckout, VerifySession
from checkout.context import CheckoutContext
from checkout.plans import list_plans
from checkout.plans_view import CACHE_CONTROL, etag_of, matches, plans_body
from checkout.trials import trial_available
from checkout.use_cases import open_portal, start_checkout, verify_session

router = APIRouter(prefix="/api/billing", tags=["checkout"])


def _services(request: Request) -> CheckoutContext:
    return context_of(request, CheckoutContext)


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Repeat the same key to get the same session back (a double click).",
    ),
]


async def _billing_manager(principal: CurrentPrincipal) -> Principal:
    """A dependency, so FastAPI runs it before it validates the body: a member is a 403
    even with a body that would be a 422 (the use case authorizes again)."""
    authorize(principal, Action.MANAGE_BILLING, tenant_id=principal.tenant_id)
    return principal


BillingManager = Annotated[Principal, Depends(_billing_manager)]


@router.post(
    "/checkout",
    summary="Start a Stripe Checkout session for a paid plan (owner only)",
    response_model=CheckoutSessionOut,
    responses=error_responses(400, 401, 403, 409, 422, 429, 503, described=ERROR_DESCRIPTIONS),
)
async def create_checkout(
    request: Request,
    principal: BillingManager,
    body: Annotated[CheckoutBody, Body()],
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> CheckoutSessionOut:
    services = _services(request)
    try:
        async with services.budget.spend(principal.tenant_id, SESSIONS):
            started = await start_checkout(
                StartCheckout(
                    principal=principal,
                    plan=body.plan,
                    trial=body.trial,
                    interval=body.interval,
                    idempotency_key=idempotency_key,
                    causation_id=request_id,
                ),
                uow_factory=services.uow_factory,
                gateway=services.gateway,
                config=services.config,
                clock=services.clock,
            )
    except GatewayUnavailable as exc:
        metrics.CHECKOUT_CREATION_FAILURES.labels(exc.code).inc()
        raise
    if not started.replayed:
        metrics.CHECKOUT_SESSIONS_CREATED.labels(body.plan.strip().lower(), str(body.trial)).inc()
    return CheckoutSessionOut(session_id=started.session_id, url=started.url)


@router.get(
    "/checkout/trial",
    summary="Whether the tenant may still start a free trial (any member)",
    response_model=TrialOut,
    responses=error_responses(401, 403, described=ERROR_DESCRIPTIONS),
)
async def get_trial_availability(request: Request, principal: CurrentPrincipal) -> TrialOut:
    authorize(principal, Action.READ_SUBSCRIPTION, tenant_id=principal.tenant_id)
    available = await trial_available(_services(request).uow_factory, principal.tenant_id)
    return TrialOut(trial_available=available)


@router.get(
    "/checkout",
    summary="Open a Customer Portal session for the tenant (owner only)",
    response_model=PortalOut,
    responses=error_responses(401, 403, 404, 429, 503, described=ERROR_DESCRIPTIONS),
)
async def create_portal(
    request: Request, principal: CurrentPrincipal, request_id: RequestId
) -> PortalOut:
    services = _services(request)
    async with services.budget.spend(principal.tenant_id, SESSIONS):
        url = await open_portal(
            OpenPortal(principal=principal, causation_id=request_id),
            uow_factory=services.uow_factory,
            gateway=services.gateway,
            config=services.config,
            clock=services.clock,
        )
    metrics.PORTAL_SESSIONS_CREATED.inc()
    return PortalOut(url=url)


@router.post(
    "/verify-session",
    summary="Verify a session the browser came back with (any member of the tenant)",
    response_model=VerifyOut,
    responses=error_responses(400, 401, 403, 404, 422, 429, 503, described=ERROR_DESCRIPTIONS),
)
async def verify(
    request: Request, principal: CurrentPrincipal, body: Annotated[VerifyBody, Body()]
) -> VerifyOut:
    services = _services(request)
    async with services.budget.spend(principal.tenant_id, STRIPE):
        result = await verify_session(
            VerifySession(principal=principal, session_id=body.session_id),
            uow_factory=services.uow_factory,
            gateway=services.gateway,
            clock=services.clock,
        )
    card = result.saved_card
    return VerifyOut(
        verified=result.verified,
        status=result.status,
        payment_status=result.payment_status,
        plan=result.plan.value if result.plan is not None else None,
        trial=result.trial,
        mode=result.mode,
        payment_method=None
        if card is None
        else SavedCardOut(id=card.payment_method_id, brand=card.brand, last4=card.last4),
        made_default=result.made_default,
    )


@router.post(
    "/payment-methods/setup",
    summary="Add a card: a Checkout session in setup mode (owner only)",
    response_model=SetupOut,
    responses=error_responses(401, 403, 422, 429, 503, described=ERROR_DESCRIPTIONS),
)
async def setup_payment_method(
    request: Request,
    principal: BillingManager,
    request_id: RequestId,
    idempotency_key: IdempotencyKey = None,
) -> SetupOut:
    services = _services(request)
    async with services.budget.spend(principal.tenant_id, SESSIONS):
        started = await start_card_setup(
            StartCardSetup(
                principal=principal, idempotency_key=idempotency_key, causation_id=request_id
            ),
            uow_factory=services.uow_factory,
            gateway=services.gateway,
            config=services.config,
            clock=services.clock,
        )
    return SetupOut(url=started.url)


@router.get(
    "/plans",
    summary="The plans on offer: both intervals' prices (from Stripe, cached), the yearly "
    "saving, trial days, features and limits (public, no token)",
    response_model=PlansOut,
    responses={
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        **error_responses(503, described=ERROR_DESCRIPTIONS),
    },
)
async def plans(request: Request) -> Response:
    """Public: the pricing page shows it before sign-in. Cached by browsers and proxies
    (``Cache-Control``) and validated by ``ETag``; Stripe is read once per cache TTL."""
    services = _services(request)
    offers = await list_plans(None, prices=services.prices, config=services.config)
    body = plans_body(offers)
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(body, headers=headers)
