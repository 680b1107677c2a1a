"""HTTP API of customer self-service (ARCHITECTURE 8.4): the tenant's payment methods and
invoices. Reads are any member's and never call Stripe; changes are the owner's and
spend the tenant's Stripe budget."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from billing_domain.auth import Principal
from billing_domain.errors import DomainError, NotFound, RuleViolated
from billing_platform.http.auth import CurrentPrincipal
from billing_platform.http.error_docs import error_responses
from billing_platform.http.responses import JSONResponse
from billing_platform.stripe_budget import STRIPE
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from subscriptions.api import (
    ERROR_DESCRIPTIONS,
    TENANT_READ_DOCS,
    IdempotencyKey,
    OwnerTenant,
    read_tenant,
    request_key,
    subscriptions_context,
)
from subscriptions.metrics import SELF_SERVICE_ACTIONS
from subscriptions.self_service import use_cases
from subscriptions.self_service.commands import (
    ListInvoices,
    ListPaymentMethods,
    MakeDefault,
    PayInvoice,
    RemovePaymentMethod,
)
from subscriptions.self_service.views import (
    MAX_CURSOR,
    decode_cursor,
    invoices_body,
    payment_methods_body,
)

router = APIRouter(prefix="/api/billing", tags=["payment methods and invoices"])

_STRIPE_ID = re.compile(r"^[A-Za-z0-9_]{1,255}$")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100

DESCRIBED = {
    **ERROR_DESCRIPTIONS,
    403: "not the tenant's owner (changes), or another tenant",
    404: "no such payment method or invoice for this tenant (another tenant's id is a 404)",
    409: "the only card of a paid subscription; nothing due on the invoice (nothing_due), or "
    "Stripe would not try it (stripe_refused: paid or voided meanwhile)",
    422: "bad cursor or limit; an expired card made the default (card_expired); a card "
    "refused, with Stripe's code (card_declined, expired_card, ...) or needing authentication",
}
READ_ERRORS = error_responses(401, 403, 422, described=DESCRIBED)
CHANGE_ERRORS = error_responses(401, 403, 404, 409, 422, 429, 503, described=DESCRIBED)


class PaymentMethodOut(BaseModel):
    id: str = Field(examples=["pm_1PQ..."])
    brand: str | None = Field(examples=["visa"])
    last4: str | None = Field(examples=["4242"])
    exp_month: int | None
    exp_year: int | None
    default: bool
    expiring_soon: bool = Field(
        description="within 20 days of the end of the expiry month (an expired card too)"
    )
    expired: bool = Field(description="past the end of its expiry month: Stripe declines it")


class DefaultOut(BaseModel):
    default: str | None
    payment_methods: list[PaymentMethodOut]


class RemovedOut(DefaultOut):
    removed: str
    default_note: str | None = Field(
        description="why no card became the default when the default was removed"
    )


class InvoiceOut(BaseModel):
    id: str
    number: str | None
    status: str | None = Field(examples=["paid", "open", "void", "uncollectible", "draft"])
    total: int | None = Field(description="minor units")
    amount_due: int | None = Field(description="minor units")
    currency: str
    period_start: str | None = Field(description="RFC 3339")
    period_end: str | None = Field(description="RFC 3339")
    created: str | None = Field(description="RFC 3339")
    hosted_invoice_url: str | None
    invoice_pdf: str | None


class InvoicesOut(BaseModel):
    invoices: list[InvoiceOut]
    next_cursor: str | None


class PaymentOut(BaseModel):
    invoice_id: str
    status: str | None = Field(
        description="Stripe's answer; the payment-failure banner clears when invoice.paid arrives"
    )


@contextlib.contextmanager
def _counted(action: str) -> Iterator[None]:
    """``billing_self_service_actions_total{action, outcome}``: ok, or the error's code."""
    try:
        yield
    except DomainError as exc:
        SELF_SERVICE_ACTIONS.labels(action, exc.code).inc()
        raise
    SELF_SERVICE_ACTIONS.labels(action, "ok").inc()


def _stripe_id(value: str, what: str) -> str:
    """A malformed id names nothing of this tenant's: 404, like another tenant's id."""
    if not _STRIPE_ID.match(value):
        raise NotFound(
            f"no such {what} for this tenant", code=f"{what.replace(' ', '_')}_not_found"
        )
    return value


def _methods(principal: Principal, tenant_id: str) -> ListPaymentMethods:
    return ListPaymentMethods(principal=principal, tenant_id=tenant_id)


@router.get(
    "/payment-methods",
    summary="The tenant's cards (from the projection; never calls Stripe)",
    response_model=list[PaymentMethodOut],
    responses=READ_ERRORS,
    openapi_extra=TENANT_READ_DOCS,
)
async def list_payment_methods(
    request: Request,
) -> JSONResponse:
    context = subscriptions_context(request)
    principal, tenant_id = read_tenant(request)
    wallet = await use_cases.list_payment_methods(
        _methods(principal, tenant_id), context.self_service
    )
    return JSONResponse(payment_methods_body(wallet, context.clock.now()))


@router.post(
    "/payment-methods/{payment_method_id}/default",
    summary="Make a card the default: the customer's and every live subscription's (owner)",
    response_model=DefaultOut,
    responses=CHANGE_ERRORS,
)
async def make_default(
    request: Request,
    payment_method_id: str,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    context = subscriptions_context(request)
    cmd = MakeDefault(
        principal=principal,
        tenant_id=tenant_id,
        payment_method_id=_stripe_id(payment_method_id, "payment method"),
        request_key=request_key(idempotency_key),
    )
    with _counted("make_default"):
        async with context.budget.spend(tenant_id, STRIPE):
            wallet = await use_cases.make_default(
                cmd,
                reader=context.self_service,
                uow_factory=context.uow_factory,
                gateway=context.self_service_gateway,
                clock=context.clock,
            )
    return JSONResponse(
        {
            "default": wallet.default_payment_method_id,
            "payment_methods": payment_methods_body(wallet, context.clock.now()),
        }
    )


@router.delete(
    "/payment-methods/{payment_method_id}",
    summary="Remove a card (owner); 409 for the only card of a paid subscription",
    response_model=RemovedOut,
    responses=CHANGE_ERRORS,
)
async def remove_payment_method(
    request: Request,
    payment_method_id: str,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    context = subscriptions_context(request)
    cmd = RemovePaymentMethod(
        principal=principal,
        tenant_id=tenant_id,
        payment_method_id=_stripe_id(payment_method_id, "payment method"),
        request_key=request_key(idempotency_key),
    )
    with _counted("remove"):
        async with context.budget.spend(tenant_id, STRIPE):
            removal = await use_cases.remove_payment_method(
                cmd,
                reader=context.self_service,
                accounts=context.reader,
                uow_factory=context.uow_factory,
                gateway=context.self_service_gateway,
                clock=context.clock,
            )
    return JSONResponse(
        {
            "removed": removal.removed,
            "default": removal.default_payment_method_id,
            "default_note": removal.default_note,
            "payment_methods": payment_methods_body(removal.wallet, context.clock.now()),
        }
    )


INVOICE_PAGE_DOCS: dict[str, Any] = {
    **TENANT_READ_DOCS,
    "parameters": [
        *TENANT_READ_DOCS["parameters"],
        {
            "name": "cursor",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "maxLength": MAX_CURSOR},
            "description": "the next_cursor of the page before",
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
        },
    ],
}


def _page_limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise RuleViolated(f"limit: a whole number from 1 to {MAX_LIMIT}", code="invalid_request")
    return int(raw)


@router.get(
    "/invoices",
    summary="The tenant's invoices, newest first (from the projection; never calls Stripe)",
    response_model=InvoicesOut,
    responses=READ_ERRORS,
    openapi_extra=INVOICE_PAGE_DOCS,
)
async def list_invoices(request: Request) -> JSONResponse:
    """A hot read like GET subscription: no dependency injection, one select."""
    context = subscriptions_context(request)
    principal, tenant_id = read_tenant(request)
    after = decode_cursor(request.query_params.get("cursor"))  # its length checked there
    cmd = ListInvoices(
        principal=principal, tenant_id=tenant_id, after=after, limit=_page_limit(request)
    )
    page = await use_cases.list_invoices(cmd, context.self_service)
    return JSONResponse(invoices_body(page))


@router.post(
    "/invoices/{invoice_id}/pay",
    summary="Pay an open invoice now with the default card (owner; the banner's Pay now)",
    response_model=PaymentOut,
    responses=CHANGE_ERRORS,
)
async def pay_invoice(
    request: Request,
    invoice_id: str,
    principal: CurrentPrincipal,
    tenant_id: OwnerTenant,
    idempotency_key: IdempotencyKey = None,
) -> PaymentOut:
    context = subscriptions_context(request)
    cmd = PayInvoice(
        principal=principal,
        tenant_id=tenant_id,
        invoice_id=_stripe_id(invoice_id, "invoice"),
        request_key=request_key(idempotency_key),
    )
    with _counted("pay_invoice"):
        async with context.budget.spend(tenant_id, STRIPE):
            attempt = await use_cases.pay_invoice(
                cmd,
                reader=context.self_service,
                gateway=context.self_service_gateway,
                payer=context.gateway,
            )
    return PaymentOut(invoice_id=attempt.invoice_id, status=attempt.status)
