"""An app whose routes run with an empty log context: what they publish must not depend on it."""

from __future__ import annotations

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send


class _ClearLogContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        structlog.contextvars.clear_contextvars()
        await self.app(scope, receive, send)


def without_log_context(app: Starlette) -> Starlette:
    """Clear structlog's context between the platform's middleware and the routes.

    Call it before the app starts: the middleware goes innermost, inside
    ``RequestContextMiddleware``, so the request id it bound is gone by the time a
    route runs (a logging change that stopped binding it would look the same).
    """
    app.user_middleware.append(Middleware(_ClearLogContext))
    return app
