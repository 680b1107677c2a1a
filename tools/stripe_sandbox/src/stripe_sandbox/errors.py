"""Stripe's error shape: ``{"error": {"type", "code", "message", "param", "doc_url"}}``.

Only Stripe's own types (``api_error``, ``card_error``, ``idempotency_error``,
``invalid_request_error``: a bad API key is an ``invalid_request_error`` with status
401, a rate limit one with status 429 and code ``rate_limit``) and codes (the SDK's
list, ``stripe.SetupIntent.LastSetupError.code``; tests/test_error_catalogue.py
checks every one the sandbox can send). Errors with a code link to its page
(``doc_url``) as Stripe's do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

DOC_URL = "https://stripe.com/docs/error-codes/"


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
        # Refused before anything ran (parameters): not stored under an Idempotency-Key.
        self.before_execution = False

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = DOC_URL + self.code.replace("_", "-")
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


class ResourceMissingError(StripeError):
    """``No such price: 'price_x'``: 404 for an id in the URL, 400 for one in a parameter
    (``api.Sandbox`` decides, it knows the path)."""

    def __init__(self, kind: str, object_id: str, param: str) -> None:
        super().__init__(
            f"No such {kind}: '{object_id}'", status=404, code="resource_missing", param=param
        )
        self.object_id = object_id


def resource_missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return ResourceMissingError(kind, object_id, param)


def _refused(error: StripeError) -> StripeError:
    error.before_execution = True
    return error


def parameter_missing(param: str) -> StripeError:
    return _refused(
        StripeError(f"Missing required param: {param}.", code="parameter_missing", param=param)
    )


def parameter_invalid(param: str, message: str, *, code: str | None = None) -> StripeError:
    """A value Stripe refuses; most such errors have no code (only integers and
    empty strings have one: ``parameter_invalid_integer``, ``parameter_invalid_empty``)."""
    return _refused(StripeError(message, code=code, param=param))


def parameter_unknown(paths: list[str]) -> StripeError:
    if len(paths) == 1:
        message = f"Received unknown parameter: {paths[0]}"
    else:
        message = f"Received unknown parameters: {', '.join(paths)}"
    return _refused(StripeError(message, code="parameter_unknown", param=paths[0]))


def enum_invalid(param: str, allowed: Sequence[str]) -> StripeError:
    """``Invalid mode: must be one of payment, setup, or subscription`` (no code)."""
    if len(allowed) <= 2:
        listed = " or ".join(allowed)
    else:
        listed = f"{', '.join(allowed[:-1])}, or {allowed[-1]}"
    return _refused(StripeError(f"Invalid {param}: must be one of {listed}", param=param))


def card_declined(decline_code: str = "generic_decline") -> StripeError:
    return StripeError(
        "Your card was declined.",
        status=402,
        type_="card_error",
        code="card_declined",
        extra={"decline_code": decline_code},
    )


def authentication_failed(message: str) -> StripeError:
    return StripeError(message, status=401)


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
        return StripeError(f"Invalid request: {exc}").response()

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
