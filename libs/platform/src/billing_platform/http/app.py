"""``create_app``: the FastAPI application every service is built from.

It adds what every service answers the same way: ``/healthz`` (process up),
``/readyz`` (every registered dependency reachable, else 503), ``/metrics``
(Prometheus text), the error mapping, the request-id middleware, a body cap and
read deadline (1 MiB and 10 s unless the service says otherwise) and JWT
verification. The service brings its routers and a lifespan that builds its
adapters (``bootstrap``) and registers readiness checks on ``app.state``.

Once the lifespan has started, what it built is frozen out of the garbage
collector's full passes (``settled_heap``). FastAPI's own OpenTelemetry is off
(``NO_FASTAPI_TELEMETRY``): the services report through Prometheus and structured
logs, and its per-request look for a configured provider was about 5 % of a read's
CPU (bench.subscription_read).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.telemetry import TelemetryConfig

from billing_platform.http.auth import any_jwt_key
from billing_platform.http.dev_tokens import NoDevTokensVerifier
from billing_platform.http.errors import install_error_handlers
from billing_platform.http.middleware import (
    DEFAULT_BODY_READ_TIMEOUT_S,
    DEFAULT_MAX_BODY_BYTES,
    BodyLimitMiddleware,
    RequestContextMiddleware,
)
from billing_platform.http.responses import JSONResponse
from billing_platform.metrics import render_latest
from billing_platform.settings import BillingSettings

NO_FASTAPI_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}
ReadinessCheck = Callable[[], Awaitable[None]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
READINESS_TIMEOUT_S = 2.0


def create_app(
    *,
    service: str,
    settings: BillingSettings,
    routers: Sequence[APIRouter] = (),
    lifespan: Lifespan | None = None,
    description: str = "",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    body_read_timeout_s: float = DEFAULT_BODY_READ_TIMEOUT_S,
) -> FastAPI:
    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        if lifespan is None:
            with settled_heap():
                yield
            return
        async with lifespan(app):
            with settled_heap():
                yield

    app = FastAPI(
        title=f"billing {service}",
        description=description,
        version="1.0.0",
        lifespan=run,
        telemetry=NO_FASTAPI_TELEMETRY,
    )
    app.state.service = service
    app.state.settings = settings
    app.state.readiness_checks = {}
    if any_jwt_key(settings):  # a key that cannot be parsed raises here: no start-up
        # Refuses tokens billing dev minted (iss billing-dev): only billing dev swaps it out.
        app.state.jwt_verifier = NoDevTokensVerifier.from_settings(settings)
    install_error_handlers(app)
    # Inside the request context (its 413/408 answers carry the request id, are counted).
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=max_body_bytes, read_timeout_s=body_read_timeout_s
    )
    app.add_middleware(RequestContextMiddleware, service=service)
    app.include_router(_operations_router())
    for router in routers:
        app.include_router(router)
    return app


@contextmanager
def settled_heap() -> Iterator[None]:
    """What startup built (modules, the app, pools) lives as long as the process: frozen
    out of the garbage collector's full passes while the service runs. Unfrozen, each
    full pass rescans it (about 150,000 objects) and pauses every request in flight:
    80-90 ms on a year-by-day metrics read (bench.revenue_metrics' p95), and a share of
    every read's CPU (bench.subscription_read). Freezing is a constant-time splice (no
    collection first: startup's own garbage, if any, waits for the unfreeze).
    Process-wide: ``billing dev``'s services share one heap; the way out unfreezes it."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def add_readiness_check(app: FastAPI, name: str, check: ReadinessCheck) -> None:
    """Register a dependency: ``check()`` raises (or times out) when it is unreachable."""
    app.state.readiness_checks[name] = check


async def _run_check(check: ReadinessCheck) -> bool:
    try:
        await asyncio.wait_for(check(), READINESS_TIMEOUT_S)
    except Exception:
        return False
    return True


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Database and broker reachable",
        responses={503: {"description": "a dependency is unreachable"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, ReadinessCheck] = request.app.state.readiness_checks
        names = list(checks)
        results = await asyncio.gather(*(_run_check(checks[name]) for name in names))
        report = {
            name: ("ok" if ok else "unavailable") for name, ok in zip(names, results, strict=True)
        }
        ready = all(results)
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": report},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        payload, content_type = render_latest()
        return Response(payload, media_type=content_type)

    return router
