"""Injected API faults: Stripe answering 500 or 429, or slowly, on demand.

``POST /_sandbox/faults`` arms a fault for the next ``count`` API requests
(``/v1/...`` only) whose method and path match: ``{"status": 500|429|503,
"count": 3, "method": "GET", "path_prefix": "/v1/customers", "delay": 0}``.
``status`` answers with Stripe's error shape (429 as code ``rate_limit`` with
``Stripe-Should-Retry: true``, others as ``api_error``) without touching state;
``delay`` alone (seconds) makes the request slow but successful, as a timeout
test needs. ``GET`` lists what is armed and what was injected; ``DELETE`` disarms everything.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from stripe_sandbox.errors import DOC_URL


@dataclass
class Fault:
    count: int
    status: int | None = None
    delay: float = 0.0
    method: str | None = None
    path_prefix: str = "/v1/"

    def matches(self, method: str, path: str) -> bool:
        return (
            self.count > 0
            and path.startswith(self.path_prefix)
            and (self.method is None or self.method.upper() == method)
        )


class Faults:
    def __init__(self) -> None:
        self.armed: list[Fault] = []
        self.injected: list[dict[str, object]] = []

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.armed:
            if fault.matches(method, path):
                fault.count -= 1
                self.injected.append({"method": method, "path": path, **asdict(fault)})
                return fault
        return None


def _error(status: int) -> Response:
    """Stripe's answers: a 429 is an ``invalid_request_error`` with code ``rate_limit``
    (there is no rate-limit error type) and ``Stripe-Should-Retry: true``; a 5xx is an
    ``api_error`` without a code."""
    if status == 429:
        return JSONResponse(
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "rate_limit",
                    "doc_url": DOC_URL + "rate-limit",
                    "message": "Request rate limit exceeded. Learn more about rate limits "
                    "here https://stripe.com/docs/rate-limits. (injected)",
                }
            },
            status_code=status,
            headers={"Stripe-Should-Retry": "true"},
        )
    return JSONResponse(
        {"error": {"type": "api_error", "message": "Internal error (injected)"}},
        status_code=status,
    )


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app, self.faults = app, faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            fault = self.faults.take(scope["method"], scope["path"])
            if fault is not None:
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.status is not None:
                    await _error(fault.status)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> Faults:
    faults = Faults()
    app.add_middleware(FaultMiddleware, faults=faults)
    router = APIRouter(prefix="/_sandbox", include_in_schema=False)

    @router.post("/faults")
    async def arm(request: Request) -> JSONResponse:
        body = await request.json()
        status = body.get("status")
        if status is not None and status not in (429, 500, 502, 503):
            return JSONResponse({"error": {"message": "status must be 429, 500, 502 or 503"}}, 400)
        fault = Fault(
            count=int(body.get("count", 1)),
            status=status,
            delay=float(body.get("delay", 0)),
            method=body.get("method"),
            path_prefix=str(body.get("path_prefix", "/v1/")),
        )
        faults.armed.append(fault)
        return JSONResponse(asdict(fault))

    @router.get("/faults")
    async def listed() -> JSONResponse:
        return JSONResponse(
            {"armed": [asdict(f) for f in faults.armed if f.count > 0], "injected": faults.injected}
        )

    @router.delete("/faults")
    async def disarm() -> JSONResponse:
        faults.armed.clear()
        return JSONResponse({"deleted": True})

    app.include_router(router)
    return faults
