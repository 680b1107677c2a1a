"""Pure-ASGI middleware: request id + log context, and HTTP metrics.

``X-Request-ID`` is taken from the caller (the gateway sets it) when it looks
sane, generated otherwise, bound to the log context as ``request_id`` and
``correlation_id``, and echoed on the response. Routes take it as an argument
(``RequestId``), never back out of the log context: it is the causation id of the
events a request publishes. ``BodyLimitMiddleware``: a body cap
and a read deadline in every service, not only in the gateway.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from typing import Annotated

import structlog
from fastapi import Depends, Request
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from billing_platform.metrics import HTTP_LATENCY, HTTP_REQUESTS

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# What a request binds to the log context (tenant_id by the auth dependency).
_REQUEST_KEYS = ("request_id", "correlation_id", "service", "tenant_id")
_STATE_KEY = "request_id"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        # The metric children by label values: ``labels()`` costs a lock and a tuple
        # of strings per call, on every request of the hot read paths.
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[str, Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or os.urandom(16).hex()
        scope.setdefault("state", {})[_STATE_KEY] = request_id
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        started = time.perf_counter()
        # bind + unbind rather than bound_contextvars(): that one scans every context
        # variable on entry, a measurable share of the webhook ingest path.
        structlog.contextvars.bind_contextvars(
            request_id=request_id, correlation_id=request_id, service=self.service
        )
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars(*_REQUEST_KEYS)
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self._requests(scope["method"], template, status_holder["status"]).inc()
            self._latency(template).observe(time.perf_counter() - started)

    def _requests(self, method: str, template: str, status: int) -> Counter:
        key = (method, template, status)
        child = self._counted.get(key)
        if child is None:
            child = HTTP_REQUESTS.labels(self.service, method, template, str(status))
            self._counted[key] = child
        return child

    def _latency(self, template: str) -> Histogram:
        child = self._timed.get(template)
        if child is None:
            child = self._timed[template] = HTTP_LATENCY.labels(self.service, template)
        return child


def request_id_of(request: Request) -> str:
    """The id ``RequestContextMiddleware`` gave this request. Without the middleware
    this fails loudly rather than inventing a causation id."""
    found = request.scope.get("state", {}).get(_STATE_KEY)
    if not found:
        raise RuntimeError("no request id: RequestContextMiddleware is not installed")
    return str(found)


RequestId = Annotated[str, Depends(request_id_of)]
"""A route parameter: this request's id, the causation id of what it publishes."""


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _SANE_ID.match(candidate) else None
    return None


DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_BODY_READ_TIMEOUT_S = 10.0


class BodyLimitMiddleware:
    """A request body cap and read deadline for a service reached without the gateway.

    A declared ``Content-Length`` over the cap is a 413 before anything is read. A
    body that grows over the cap while it streams, or that is not complete within
    ``read_timeout_s`` of the first read, is cut: the application is told the
    client went away, whatever it answers is dropped, and the caller gets a 413
    ``payload_too_large`` or a 408 ``request_timeout`` in the error shape. Once the
    body is complete, ``receive`` is the server's own again (disconnect listeners
    wait as long as they like).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int = DEFAULT_MAX_BODY_BYTES,
        read_timeout_s: float = DEFAULT_BODY_READ_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _body_framing(scope)
        if declared > self.max_bytes:
            await self._refuse(send, 413)
            return
        if not declared and not chunked:  # no body (RFC 9112 6.3): nothing to cap or wait for
            await self.app(scope, receive, send)
            return
        cut: list[int] = []  # the status to answer once the body was cut
        started = {"response": False}
        received = 0
        complete = False
        deadline: float | None = None

        async def limited_receive() -> Message:
            nonlocal received, complete, deadline
            if complete or cut:
                return await receive() if not cut else {"type": "http.disconnect"}
            deadline = deadline or asyncio.get_running_loop().time() + self.read_timeout_s
            try:
                # timeout_at, not wait_for: on Python 3.11 wait_for wraps every read
                # in a new task, a cost each request paid (bench/webhook_ingest.py).
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                cut.append(408)
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    cut.append(413)
                    return {"type": "http.disconnect"}
                complete = not message.get("more_body", False)
            return message

        async def guarded_send(message: Message) -> None:
            if cut and not started["response"]:
                return  # the application's answer to a body it never got whole
            if message["type"] == "http.response.start":
                started["response"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not cut:
                raise
        if cut and not started["response"]:
            await self._refuse(send, cut[0])

    async def _refuse(self, send: Send, status: int) -> None:
        if status == 413:
            code, message = "payload_too_large", f"the body is over {self.max_bytes} bytes"
        else:
            code, message = "request_timeout", "the body was not received in time"
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _body_framing(scope: Scope) -> tuple[int, bool]:
    """(declared Content-Length, 0 when absent or unreadable; chunked or otherwise
    transfer-encoded). Neither means the request has no body."""
    declared, chunked = 0, False
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            declared = int(value) if value.isdigit() else 0
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked
