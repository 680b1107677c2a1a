"""Operators' listing of every tenant's subscription as the projection holds it
(``GET /api/billing/admin/subscriptions``, ``billing:admin``): what ``billing analytics
backfill`` builds its opening balances from, without reading this service's tables.
The listing never calls Stripe."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from billing_domain.auth import Action, authorize
from billing_domain.timestamps import to_rfc3339
from billing_platform.http.auth import CurrentPrincipal
from billing_platform.http.context import context_of
from billing_platform.http.error_docs import error_responses
from billing_platform.http.errors import ApiError
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from subscriptions.commands import ListAccounts
from subscriptions.context import SubscriptionsContext
from subscriptions.ports import AccountReader, ListedAccount

router = APIRouter(prefix="/api/billing/admin", tags=["operators"])

MAX_TENANT = 200
ERRORS = {
    401: "missing or invalid token",
    403: "the token lacks the billing:admin scope",
    422: "bad limit or bad cursor",
}


class ListedSubscriptionOut(BaseModel):
    tenant_id: str
    plan: str = Field(examples=["team"])
    interval: str = Field(examples=["month", "year"])
    status: str = Field(examples=["active"])
    cancel_at_period_end: bool
    current_period_end: str | None = Field(description="RFC 3339")
    trial_end: str | None = Field(description="RFC 3339")
    stripe_customer_id: str | None
    stripe_subscription_id: str | None
    updated_at: str = Field(description="RFC 3339: when the projection last changed the row")


class ListedSubscriptions(BaseModel):
    subscriptions: list[ListedSubscriptionOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")


async def list_accounts(cmd: ListAccounts, reader: AccountReader) -> list[ListedAccount]:
    authorize(cmd.principal, Action.LIST_SUBSCRIPTIONS)
    return await reader.accounts_page(after=cmd.after, limit=cmd.limit)


def _out(listed: ListedAccount) -> ListedSubscriptionOut:
    account = listed.account
    return ListedSubscriptionOut(
        tenant_id=account.tenant_id,
        plan=account.plan.value,
        interval=account.interval.value,
        status=account.status.value,
        cancel_at_period_end=account.cancel_at_period_end,
        current_period_end=None
        if account.current_period_end is None
        else to_rfc3339(account.current_period_end),
        trial_end=None if account.trial_end is None else to_rfc3339(account.trial_end),
        stripe_customer_id=account.stripe_customer_id,
        stripe_subscription_id=account.stripe_subscription_id,
        updated_at=to_rfc3339(listed.updated_at),
    )


def encode_cursor(tenant_id: str) -> str:
    return base64.urlsafe_b64encode(tenant_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    bad = ApiError(422, "invalid_cursor", "cursor must be a value from next_cursor")
    try:
        tenant_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if not tenant_id or len(tenant_id) > MAX_TENANT or "\x00" in tenant_id:
        raise bad
    return tenant_id


@router.get(
    "/subscriptions",
    summary="Every tenant's subscription as the projection holds it, by tenant id",
    response_model=ListedSubscriptions,
    responses=error_responses(401, 403, 422, described=ERRORS),
)
async def subscriptions(
    request: Request,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> ListedSubscriptions:
    authorize(principal, Action.LIST_SUBSCRIPTIONS)  # a tenant's token: 403 before the cursor
    cmd = ListAccounts(
        principal=principal,
        after=None if cursor is None else decode_cursor(cursor),
        limit=limit + 1,
    )
    context = context_of(request, SubscriptionsContext)
    rows = await list_accounts(cmd, context.reader)
    page, more = rows[:limit], len(rows) > limit
    return ListedSubscriptions(
        subscriptions=[_out(row) for row in page],
        next_cursor=encode_cursor(page[-1].account.tenant_id) if more else None,
    )
