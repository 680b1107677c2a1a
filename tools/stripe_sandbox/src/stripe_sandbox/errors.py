"""Stripe's error shape: ``{"error": {"type", "code", "message", "param"}}`` and its statuses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class StripeError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type_
        self.code = code
        self.param = param
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def resource_missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        f"No such {kind}: '{object_id}'", status=404, code="resource_missing", param=param
    )


def parameter_missing(param: str) -> StripeError:
    return StripeError(f"Missing required param: {param}.", code="parameter_missing", param=param)


def parameter_invalid(param: str, code: str, message: str) -> StripeError:
    return StripeError(message, code=code, param=param)


def card_declined(decline_code: str = "generic_decline") -> StripeError:
    return StripeError(
        "Your card was declined.",
        status=402,
        type_="card_error",
        code="card_declined",
        extra={"decline_code": decline_code},
    )


def authentication_failed(message: str) -> StripeError:
    return StripeError(message, status=401, type_="authentication_error")


def install_handlers(app: FastAPI) -> None:
    async def on_stripe_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StripeError)
        return exc.response()

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return StripeError(
                f"Unrecognized request URL ({request.method}: {request.url.path}).",
                status=404,
            ).response()
        if exc.status_code == 405:
            return StripeError(
                f"Unrecognized request URL ({request.method}: {request.url.path}).",
                status=404,
            ).response()
        return StripeError(str(exc.detail), status=exc.status_code).response()

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        return StripeError(f"Invalid request: {exc}", code="parameter_invalid").response()

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        return StripeError(
            f"The sandbox hit an internal error: {type(exc).__name__}",
            status=500,
            type_="api_error",
        ).response()

    app.add_exception_handler(StripeError, on_stripe_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
