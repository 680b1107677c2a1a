"""The request pipeline every /v1 route goes through.

Authenticate, decode Stripe's form encoding, take the state lock, replay or record
the ``Idempotency-Key``, run the handler, expand ``expand[]`` paths, persist and wake
the webhook dispatcher.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError, authentication_failed, parameter_invalid
from stripe_sandbox.events import current_request
from stripe_sandbox.forms import Params, decode_form, decode_query
from stripe_sandbox.ids import kind_of, new_id
from stripe_sandbox.objects.common import JSON, list_object
from stripe_sandbox.state import State
from stripe_sandbox.store import SqliteStore
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

    def commit(self) -> None:
        if self.store is not None:
            self.store.flush(self.state)
        self.dispatcher.notify()

    async def call(self, request: Request, handler: Handler) -> JSONResponse:
        request_id = new_id("req_", 14)
        try:
            _authenticate(request)
            body = await request.body()
            data = decode_form(body) if request.method == "POST" else {}
            data.update(decode_query(request.url.query))
            expand = Params(data).strings("expand")
            data.pop("expand", None)
        except StripeError as exc:
            return _json(exc.body(), exc.status, request_id)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        fingerprint = hashlib.sha256(
            request.method.encode() + request.url.path.encode() + b"?" + body
        ).hexdigest()
        async with self.state.lock:
            if key:
                stored = self.state.get("_idempotency", key)
                if stored is not None:
                    if stored["fingerprint"] != fingerprint:
                        error = StripeError(
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other "
                            "than '" + key + "' if you meant to execute a different request.",
                            type_="idempotency_error",
                            code="idempotency_key_in_use",
                        )
                        return _json(error.body(), 400, request_id)
                    response = _json(stored["body"], stored["status"], request_id)
                    response.headers["Idempotent-Replayed"] = "true"
                    return response
            token = current_request.set((request_id, key))
            try:
                ctx = Ctx(self.state, self.config, Params(data), dict(request.path_params), expand)
                result = render(self.state, handler(ctx), expand)
                status = 200
            except StripeError as exc:
                result, status = exc.body(), exc.status
            finally:
                current_request.reset(token)
            if key:
                self.state.put(
                    "_idempotency",
                    {"id": key, "fingerprint": fingerprint, "status": status, "body": result},
                )
            self.commit()
        return _json(result, status, request_id)


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


def lookup(state: State, object_id: str) -> JSON | None:
    kind = kind_of(object_id)
    return state.get(kind, object_id) if kind else None


def render(state: State, obj: JSON, expand: list[str]) -> JSON:
    if not expand:
        return obj
    out = copy.deepcopy(obj)
    for path in expand:
        parts = path.split(".")
        if len(parts) > 4:
            raise parameter_invalid(
                "expand",
                "parameter_invalid_string",
                f"You cannot expand more than 4 levels: {path}",
            )
        _expand(state, out, parts)
    return out


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
        raise parameter_invalid("limit", "parameter_invalid_integer", "Limit must be at most 100.")
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
