"""``create_app(config)``: the sandbox as a FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from stripe_sandbox import (
    controls,
    faults,
    pages,
    routes_catalog,
    routes_checkout,
    routes_customers,
    routes_events,
    routes_invoices,
    routes_payment_methods,
    routes_schedules,
    routes_subscriptions,
    routes_test_clocks,
)
from stripe_sandbox.api import Handler, Sandbox
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import install_handlers
from stripe_sandbox.state import State
from stripe_sandbox.store import SqliteStore
from stripe_sandbox.webhooks import WebhookDispatcher

ROUTES: list[tuple[str, str, Handler]] = [
    *routes_customers.ROUTES,
    *routes_payment_methods.ROUTES,
    *routes_catalog.ROUTES,
    *routes_checkout.ROUTES,
    *routes_subscriptions.ROUTES,
    *routes_schedules.ROUTES,
    *routes_invoices.ROUTES,
    *routes_events.ROUTES,
    *routes_test_clocks.ROUTES,
]


def _endpoint(sandbox: Sandbox, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await sandbox.call(request, handler)

    endpoint.__name__ = f"{handler.__module__.rsplit('.', 1)[-1]}_{handler.__name__}"
    return endpoint


def create_app(config: SandboxConfig) -> FastAPI:
    """Build the sandbox; state loads from ``config.state_file`` when set, else is seeded."""
    state = State(config.api_version)
    dispatcher = WebhookDispatcher(state, config)
    store = SqliteStore(config.state_file) if config.state_file else None
    sandbox = Sandbox(config, state, dispatcher, store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if store is None or not store.load(state):
            controls.reset_state(sandbox)
        controls.register_configured_webhooks(sandbox)
        if store is not None:
            store.flush(state)
        await dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.stop()
            if store is not None:
                store.flush(state)
                store.close()

    app = FastAPI(
        title="Stripe sandbox",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
    )
    app.state.sandbox = sandbox
    install_handlers(app)
    for method, path, handler in ROUTES:
        app.add_api_route(path, _endpoint(sandbox, handler), methods=[method])
    app.include_router(controls.build_router(sandbox))
    faults.install(app)
    app.include_router(pages.build_router(sandbox))

    @app.get("/_sandbox/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"ok": True, "now": state.now()})

    return app
