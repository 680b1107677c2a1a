"""HTTP routes of the notifications service (docs/architecture.md section 8.5)."""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal

from billing_domain.auth import Action, Principal, authorize
from billing_platform.http.auth import CurrentPrincipal
from billing_platform.http.context import context_of
from billing_platform.http.error_docs import error_responses
from billing_platform.http.errors import ApiError
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from notifications.api_models import (
    ERROR_DESCRIPTIONS,
    PreferencesIn,
    PreferencesOut,
    PreviewOut,
    SendLogEntryOut,
    SendLogOut,
)
from notifications.context import NotificationsContext
from notifications.kinds import CRITICAL_KINDS
from notifications.unsubscribe_tokens import (
    ExpiredToken,
    InvalidToken,
    UnsubscribeClaim,
    verify,
)
from notifications.use_cases.operators import preview, send_log
from notifications.use_cases.tenant import (
    Preferences,
    change_preferences,
    read_preferences,
    unsubscribe,
)

router = APIRouter(prefix="/api/notifications", tags=["notifications"])

NO_NUL = r"^[^\x00]*$"
SendStatus = Literal["pending", "sent", "failed", "skipped"]
TOKEN_ERRORS = {
    400: "a forged, altered or malformed token, or one for a kind that stays on",
    409: "the link was used already (each link works once)",
    410: "the link has expired",
}


def _context(request: Request) -> NotificationsContext:
    return context_of(request, NotificationsContext)


async def _owner(principal: CurrentPrincipal) -> Principal:
    """Runs before the body is validated: a member gets 403, not 422."""
    authorize(principal, Action.MANAGE_NOTIFICATIONS, tenant_id=principal.tenant_id)
    return principal


Owner = Annotated[Principal, Depends(_owner)]


def _preferences_out(found: Preferences) -> PreferencesOut:
    return PreferencesOut(
        tenant_id=found.tenant_id,
        preferences={kind.value: on for kind, on in found.enabled.items()},
        critical=sorted(kind.value for kind in CRITICAL_KINDS),
    )


@router.get(
    "/log",
    summary="The send log, newest first (operators: billing:admin)",
    response_model=SendLogOut,
    responses=error_responses(401, 403, 422, described=ERROR_DESCRIPTIONS),
)
async def get_log(
    request: Request,
    principal: CurrentPrincipal,
    tenant_id: Annotated[str | None, Query(min_length=1, max_length=200, pattern=NO_NUL)] = None,
    kind: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: Annotated[SendStatus | None, Query(description="only the mails in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> SendLogOut:
    ctx = _context(request)
    entries = await send_log(
        principal, ctx.uow_factory, tenant_id=tenant_id, kind=kind, limit=limit, status=status
    )
    return SendLogOut(entries=[SendLogEntryOut.of(entry) for entry in entries])


@router.get(
    "/preview/{kind}",
    summary="A kind of email rendered with sample data (operators: billing:admin)",
    response_model=PreviewOut,
    responses=error_responses(401, 403, 404, 422, described=ERROR_DESCRIPTIONS),
)
async def get_preview(
    request: Request,
    principal: CurrentPrincipal,
    kind: Annotated[str, Path(max_length=64)],
    locale: Annotated[str, Query(min_length=2, max_length=16)] = "en",
) -> PreviewOut:
    rendered = preview(principal, kind, locale, _context(request).config.app_base_url)
    return PreviewOut(
        kind=kind, locale=locale, subject=rendered.subject, html=rendered.html, text=rendered.text
    )


@router.get(
    "/preferences",
    summary="The tenant's email preferences (any member)",
    response_model=PreferencesOut,
    responses=error_responses(401, 403, described=ERROR_DESCRIPTIONS),
)
async def get_preferences(request: Request, principal: CurrentPrincipal) -> PreferencesOut:
    return _preferences_out(await read_preferences(principal, _context(request).uow_factory))


@router.put(
    "/preferences",
    summary="Switch non-critical emails on or off (owner only)",
    response_model=PreferencesOut,
    responses=error_responses(400, 401, 403, 422, described=ERROR_DESCRIPTIONS),
)
async def put_preferences(request: Request, owner: Owner, body: PreferencesIn) -> PreferencesOut:
    ctx = _context(request)
    changed = await change_preferences(owner, body.preferences, ctx.uow_factory, ctx.clock)
    return _preferences_out(changed)


def _claim(token: str, ctx: NotificationsContext) -> UnsubscribeClaim:
    try:
        return verify(token, secret=ctx.config.unsubscribe_secret, now=ctx.clock.now())
    except InvalidToken as exc:
        raise ApiError(400, "invalid_token", str(exc)) from None
    except ExpiredToken as exc:
        raise ApiError(410, "token_expired", str(exc)) from None


Token = Annotated[str, Query(min_length=1, max_length=1024)]
_HTML_PAGE: dict[int | str, dict[str, Any]] = {
    200: {"description": "a page", "content": {"text/html": {"schema": {"type": "string"}}}}
}
"""The page answers HTML; the errors stay the API's JSON shape."""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family:sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(
        page,
        status_code=status,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "form-action 'self'; frame-ancestors 'none'",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get(
    "/unsubscribe",
    summary="The confirmation page of an unsubscribe link (no token needed but the link's)",
    response_model=None,
    responses=_HTML_PAGE | error_responses(400, 410, 422, described=TOKEN_ERRORS),
)
async def unsubscribe_page(request: Request, token: Token) -> HTMLResponse:
    claim = _claim(token, _context(request))
    kind = claim.kind.value.replace("_", " ")
    form = (
        f"<p>Stop the {html.escape(kind)} emails for this account?</p>"
        "<form method='post'><input type='hidden' name='List-Unsubscribe' value='One-Click'>"
        "<button type='submit'>Unsubscribe</button></form>"
    )
    return _page("Unsubscribe", form)


@router.post(
    "/unsubscribe",
    summary="One-click unsubscribe (RFC 8058): the signed token switches one kind off, once",
    response_model=None,
    responses=_HTML_PAGE | error_responses(400, 409, 410, 422, described=TOKEN_ERRORS),
)
async def unsubscribe_now(request: Request, token: Token) -> HTMLResponse:
    ctx = _context(request)
    claim = _claim(token, ctx)
    await unsubscribe(claim, ctx.uow_factory, ctx.clock)
    kind = claim.kind.value.replace("_", " ")
    return _page("Unsubscribed", f"<p>You will no longer get {html.escape(kind)} emails.</p>")
