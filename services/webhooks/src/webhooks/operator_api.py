"""Operators' view of the event log: list and replay (``billing:admin`` scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from billing_domain.auth import Action, authorize
from billing_domain.webhook_log import FailureClass, WebhookEventStatus
from billing_platform.http.auth import CurrentPrincipal
from billing_platform.http.context import context_of
from billing_platform.http.errors import ApiError
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from webhooks.context import WebhooksContext
from webhooks.ports import EventLogFilter, StoredEvent
from webhooks.use_cases.operations import get_event, list_events, replay_event

router = APIRouter(tags=["operators"])

EVENT_ID_PATTERN = r"^evt_[A-Za-z0-9_]{1,250}$"
MAX_BIGINT = 2**63 - 1
NO_NUL_PATTERN = r"^[^\x00]*$"
"""Postgres text cannot hold U+0000: such a filter is a 422, not a failed query (500)."""
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid token"},
    403: {"description": "the token lacks the billing:admin scope"},
}


class WebhookEventView(BaseModel):
    event_id: str
    event_type: str
    tenant_id: str | None
    status: WebhookEventStatus
    note: str | None
    error_message: str | None
    last_error: str | None = Field(description="The last failed attempt's error (kept on success).")
    last_error_class: FailureClass | None = Field(
        description="transient (retried up to WEBHOOK_RETRY_HORIZON_HOURS) or permanent."
    )
    retry_count: int
    next_attempt_at: datetime | None = Field(
        description="When it is tried next (while a worker holds it: when its lease ends)."
    )
    stripe_created_at: datetime
    received_at: datetime
    processed_at: datetime | None

    @classmethod
    def of(cls, stored: StoredEvent) -> WebhookEventView:
        record = stored.record
        return cls(
            event_id=record.event_id,
            event_type=record.event_type,
            tenant_id=stored.tenant_id,
            status=record.status,
            note=record.note,
            error_message=record.last_error,
            last_error=record.last_error,
            last_error_class=record.last_error_class,
            retry_count=record.retry_count,
            next_attempt_at=record.next_attempt_at,
            stripe_created_at=stored.stripe_created_at,
            received_at=record.received_at,
            processed_at=record.finished_at,
        )


class WebhookEventList(BaseModel):
    events: list[WebhookEventView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page.")


@router.get(
    "/api/webhooks/events",
    summary="Webhook events, newest first, filtered by status and type",
    response_model=WebhookEventList,
    responses={**ERRORS, 422: {"description": "bad filter or cursor"}},
)
async def get_events(
    request: Request,
    principal: CurrentPrincipal,
    status: Annotated[WebhookEventStatus | None, Query()] = None,
    event_type: Annotated[
        str | None, Query(alias="type", max_length=255, pattern=NO_NUL_PATTERN)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> WebhookEventList:
    authorize(principal, Action.OPERATE_WEBHOOKS)
    if cursor is not None and not _is_cursor(cursor):
        raise ApiError(422, "invalid_cursor", "cursor must be a value from next_cursor")
    context = context_of(request, WebhooksContext)
    page = await list_events(
        EventLogFilter(
            status=status,
            event_type=event_type,
            after_id=int(cursor) if cursor is not None else None,
            limit=limit,
        ),
        context.uow_factory(),
    )
    return WebhookEventList(
        events=[WebhookEventView.of(stored) for _, stored in page.events],
        next_cursor=str(page.next_after_id) if page.next_after_id is not None else None,
    )


def _is_cursor(value: str) -> bool:
    """A row id as ``next_cursor`` gives it: ASCII digits within Postgres' bigint."""
    return value.isascii() and value.isdigit() and int(value) <= MAX_BIGINT


@router.get(
    "/api/webhooks/events/{event_id}",
    summary="One event as it stands (follow a replay: pending, then processed or failed)",
    response_model=WebhookEventView,
    responses={**ERRORS, 404: {"description": "no such event"}, 422: {"description": "bad id"}},
)
async def get_one_event(
    request: Request,
    principal: CurrentPrincipal,
    event_id: Annotated[str, Path(pattern=EVENT_ID_PATTERN)],
) -> WebhookEventView:
    authorize(principal, Action.OPERATE_WEBHOOKS)
    context = context_of(request, WebhooksContext)
    return WebhookEventView.of(await get_event(event_id, context.uow_factory()))


@router.post(
    "/api/webhooks/events/{event_id}/replay",
    summary="Process a failed or parked event again",
    response_model=WebhookEventView,
    responses={
        **ERRORS,
        404: {"description": "no such event"},
        409: {"description": "the event is neither failed nor parked"},
    },
)
async def replay(
    request: Request,
    principal: CurrentPrincipal,
    event_id: Annotated[str, Path(pattern=EVENT_ID_PATTERN)],
) -> WebhookEventView:
    authorize(principal, Action.OPERATE_WEBHOOKS)
    context = context_of(request, WebhooksContext)
    stored = await replay_event(
        event_id, context.uow_factory(), context.clock, actor=principal.user_id
    )
    return WebhookEventView.of(stored)
