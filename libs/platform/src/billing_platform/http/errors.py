"""The one place where errors become HTTP answers.

Body shape everywhere: ``{"error": {"code": "...", "message": "..."}}``.
Domain errors map by class; a database that cannot be reached is a 503 (the
caller, Stripe included, retries); anything unexpected is a logged 500 that
reveals nothing.
"""

from __future__ import annotations

import math
from typing import Any

import structlog
from billing_domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    GatewayUnavailable,
    NotFound,
    RateLimited,
    RuleViolated,
)
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from billing_platform.failures import DATABASE_UNAVAILABLE
from billing_platform.http.responses import JSONResponse

log = structlog.get_logger("billing_platform.http.errors")

DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    RuleViolated: 422,
    GatewayUnavailable: 503,
    RateLimited: 429,
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "service_unavailable",
}

# Postgres unreachable, restarting, or the connection killed under a request: the
# caller should retry (Stripe does on a 5xx), so these are 503s, never 500s.
DATABASE_DOWN = DATABASE_UNAVAILABLE


class ApiError(Exception):
    """An HTTP-level error raised by the edge itself (auth, body limits, parsing)."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, **extra}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def status_for(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 400


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = status_for(exc)
    headers = {"Retry-After": "5"} if status == 503 else None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return error_response(status, exc.code, exc.message, headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", ""))}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(d['loc'][1:]) or d['loc'][0]}: {d['msg']}" for d in details)
    return error_response(422, "invalid_request", summary or "invalid request", details=details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, str(exc.detail), headers)


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("http.database_unavailable", error=repr(exc), path=request.url.path)
    return error_response(
        503,
        "database_unavailable",
        "the database is unavailable, retry later",
        {"Retry-After": "5"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("http.unhandled_error", path=request.url.path)
    return error_response(500, "internal_error", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for exc_type in DATABASE_DOWN:
        app.add_exception_handler(exc_type, _database_down)
    app.add_exception_handler(Exception, _unexpected)
