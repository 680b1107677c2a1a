"""The request pipeline every /v1 route goes through.

Authenticate, check ``Stripe-Version``, decode Stripe's form encoding, validate the
parameters against the SDK's definition of the endpoint (``validation``), take the
state lock, replay or record the ``Idempotency-Key`` (``idempotency``), run the
handler, expand ``expand[]`` paths, persist and wake the webhook dispatcher.
"""

from __future__ import annotations

import base64
import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from stripe_sandbox import idempotency
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import (
    ResourceMissingError,
    StripeError,
    authentication_failed,
    parameter_invalid,
)
from stripe_sandbox.events import current_request
from stripe_sandbox.forms import Params, decode_form, decode_query
from stripe_sandbox.ids import kind_of, new_id
from stripe_sandbox.objects.common import JSON, list_object
from stripe_sandbox.state import State
from stripe_sandbox.store import SqliteStore
from stripe_sandbox.validation import validate
from stripe_sandbox.webhooks import WebhookDispatcher


@dataclass
class Ctx:
    state: State
    config: SandboxConfig
    params: Params
    path: dict[str, str]
    expand: list[str]

    @property
    def now(self) -> int:
        return self.state.now()


Handler = Callable[[Ctx], JSON]
log = logging.getLogger("stripe_sandbox.api")


@dataclass(frozen=True)
class Outcome:
    body: JSON
    status: int
    # False for a request refused for its parameters before it ran: Stripe does not
    # store those under their Idempotency-Key.
    executed: bool = True


class Sandbox:
    """Everything a request needs, built once by ``create_app``."""

    def __init__(
        self,
        config: SandboxConfig,
        state: State,
        dispatcher: WebhookDispatcher,
        store: SqliteStore | None,
    ) -> None:
        self.config = config
        self.state = state
        self.dispatcher = dispatcher
        self.store = store
        # Idempotency keys of requests being executed (a second one is a 409).
        self.in_flight: set[str] = set()

    def commit(self) -> None:
        if self.store is not None:
            self.store.flush(self.state)
        self.dispatcher.notify()

    async def call(self, request: Request, handler: Handler) -> JSONResponse:
        request_id = new_id("req_", 14)
        try:
            _authenticate(request)
            _check_version(request, self.config.api_version)
            body = await request.body()
            data = decode_form(body) if request.method == "POST" else {}
            data.update(decode_query(request.url.query))
            validate(request.method, request.url.path, data)
            expand = Params(data).strings("expand")
            _check_expand(expand)
        except StripeError as exc:
            # What real Stripe would refuse too: worth seeing in a test's log.
            log.warning(
                "stripe_sandbox.request.refused %s %s: %s",
                request.method,
                request.url.path,
                exc.message,
            )
            return _json(exc.body(), exc.status, request_id)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if not key:
            async with self.state.lock:
                outcome = self._execute(request, handler, data, expand, request_id, None)
                self.commit()
            return _json(outcome.body, outcome.status, request_id)
        if key in self.in_flight:
            return _json(idempotency.in_use().body(), 409, request_id)
        self.in_flight.add(key)
        try:
            async with self.state.lock:
                request_hash = idempotency.fingerprint(request.method, request.url.path, data)
                replay = idempotency.replay(self.state, key, request_hash)
                if replay is not None:
                    response = _json(replay["body"], replay["status"], request_id)
                    response.headers["Idempotent-Replayed"] = "true"
                    return response
                outcome = self._execute(request, handler, data, expand, request_id, key)
                if outcome.executed:
                    idempotency.store(self.state, key, request_hash, outcome.status, outcome.body)
                self.commit()
        except StripeError as exc:  # the key was used with other parameters
            return _json(exc.body(), exc.status, request_id)
        finally:
            self.in_flight.discard(key)
        return _json(outcome.body, outcome.status, request_id)

    def _execute(
        self,
        request: Request,
        handler: Handler,
        data: dict[str, Any],
        expand: list[str],
        request_id: str,
        key: str | None,
    ) -> Outcome:
        params = {k: v for k, v in data.items() if k != "expand"}
        token = current_request.set((request_id, key))
        try:
            ctx = Ctx(self.state, self.config, Params(params), dict(request.path_params), expand)
            return Outcome(render(self.state, handler(ctx), expand), 200)
        except ResourceMissingError as exc:
            if exc.object_id not in request.path_params.values():
                exc.status = 400  # an id passed as a parameter, not in the URL
            return Outcome(exc.body(), exc.status)
        except StripeError as exc:
            return Outcome(exc.body(), exc.status, executed=not exc.before_execution)
        finally:
            current_request.reset(token)


def _json(body: JSON, status: int, request_id: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Request-Id": request_id})


def _authenticate(request: Request) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if not header:
        raise authentication_failed(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth "
            "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
        )
    if scheme.lower() == "basic":  # curl -u sk_test_...: as in Stripe's docs
        try:
            key = base64.b64decode(key, validate=True).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
        scheme = "bearer"
    if scheme.lower() != "bearer" or not key.startswith("sk_test_"):
        shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if key else ""
        raise authentication_failed(f"Invalid API Key provided: {shown}")


def _check_version(request: Request, pinned: str) -> None:
    """Stripe refuses a version it does not know; the sandbox knows one (the SDK's)."""
    version = request.headers.get("Stripe-Version")
    if version is not None and version != pinned:
        raise StripeError(
            f"Invalid Stripe API version: {version}. The sandbox serves {pinned} only."
        )


def lookup(state: State, object_id: str) -> JSON | None:
    kind = kind_of(object_id)
    return state.get(kind, object_id) if kind else None


def render(state: State, obj: JSON, expand: list[str]) -> JSON:
    if not expand:
        return obj
    out = copy.deepcopy(obj)
    for path in expand:
        _expand(state, out, path.split("."))
    return out


def _check_expand(expand: list[str]) -> None:
    """Before anything runs, as Stripe checks it."""
    for path in expand:
        if len(path.split(".")) > 4:
            raise parameter_invalid("expand", f"You cannot expand more than 4 levels: {path}")


def _expand(state: State, node: Any, parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if not isinstance(node, dict) or head not in node:
        return
    value = node[head]
    if isinstance(value, str):
        found = lookup(state, value)
        if found is not None:
            value = copy.deepcopy(found)
            node[head] = value
    if rest:
        for target in value if isinstance(value, list) else [value]:
            _expand(state, target, rest)


def paginate(params: Params, objects: list[JSON], url: str) -> JSON:
    """Stripe list semantics: newest first, ``limit`` 1-100, cursor by object id."""
    limit = params.integer("limit", minimum=1) or 10
    if limit > 100:
        raise parameter_invalid(
            "limit", "Limit must be at most 100.", code="parameter_invalid_integer"
        )
    ordered = list(reversed(objects))
    ids = [o["id"] for o in ordered]
    after, before = params.text("starting_after"), params.text("ending_before")
    if after is not None:
        if after not in ids:
            raise StripeError(
                f"No such object: '{after}'",
                status=404,
                code="resource_missing",
                param="starting_after",
            )
        ordered = ordered[ids.index(after) + 1 :]
    elif before is not None:
        if before not in ids:
            raise StripeError(
                f"No such object: '{before}'",
                status=404,
                code="resource_missing",
                param="ending_before",
            )
        ordered = ordered[: ids.index(before)][-limit:]
    created = params.sub("created")
    if created is not None:
        ordered = [o for o in ordered if _in_range(o["created"], created)]
    elif params.has("created"):
        exact = params.integer("created")
        ordered = [o for o in ordered if o["created"] == exact]
    return list_object(ordered[:limit], url, has_more=len(ordered) > limit)


def _in_range(value: int, bounds: Params) -> bool:
    gt, gte = bounds.integer("gt"), bounds.integer("gte")
    lt, lte = bounds.integer("lt"), bounds.integer("lte")
    return (
        (gt is None or value > gt)
        and (gte is None or value >= gte)
        and (lt is None or value < lt)
        and (lte is None or value <= lte)
    )
