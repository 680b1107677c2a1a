"""/v1/events (list, retrieve) and /v1/webhook_endpoints."""

from __future__ import annotations

import secrets

from stripe_sandbox.api import Ctx, paginate
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import parameter_missing
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.objects.event import webhook_endpoint
from stripe_sandbox.state import State


def retrieve(ctx: Ctx) -> JSON:
    return ctx.state.require("event", ctx.path["id"])


def list_(ctx: Ctx) -> JSON:
    """Newest first; ``type`` (a trailing ``*`` matches a prefix) or ``types[]``,
    ``created[gt|gte|lt|lte]``, and ``delivery_success``: true for events delivered to
    every endpoint that wanted them, false for the rest (still pending, failing, or
    never sent while deliveries were off), as Stripe's ``pending_webhooks`` counts."""
    p = ctx.params
    found = ctx.state.all("event")
    delivered = p.flag("delivery_success")
    if delivered is not None:
        found = [e for e in found if (e["pending_webhooks"] == 0) is delivered]
    types = set(p.strings("types"))
    single = p.text("type")
    if single is not None:
        if single.endswith("*"):
            found = [e for e in found if e["type"].startswith(single[:-1])]
        else:
            types.add(single)
    if types:
        found = [e for e in found if e["type"] in types]
    return paginate(p, found, "/v1/events")


def add_endpoint(
    state: State, config: SandboxConfig, url: str, secret: str | None, events: list[str]
) -> JSON:
    endpoint = webhook_endpoint(
        id=new_id("we_"),
        created=state.now(),
        url=url,
        enabled_events=events or ["*"],
        api_version=config.api_version,
    )
    endpoint["secret"] = secret or "whsec_" + secrets.token_hex(16)
    state.put("_webhook", endpoint)
    return endpoint


def public_endpoint(endpoint: JSON) -> JSON:
    return {k: v for k, v in endpoint.items() if k != "secret"}


def create_endpoint(ctx: Ctx) -> JSON:
    url = ctx.params.text("url")
    if url is None:
        raise parameter_missing("url")
    events = ctx.params.strings("enabled_events")
    if not events:
        raise parameter_missing("enabled_events")
    return add_endpoint(ctx.state, ctx.config, url, None, events)


def retrieve_endpoint(ctx: Ctx) -> JSON:
    return public_endpoint(ctx.state.require("_webhook", ctx.path["id"]))


def list_endpoints(ctx: Ctx) -> JSON:
    found = [public_endpoint(e) for e in ctx.state.all("_webhook")]
    return paginate(ctx.params, found, "/v1/webhook_endpoints")


def delete_endpoint(ctx: Ctx) -> JSON:
    endpoint = ctx.state.require("_webhook", ctx.path["id"])
    ctx.state.remove("_webhook", endpoint["id"])
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


ROUTES = [
    ("GET", "/v1/events", list_),
    ("GET", "/v1/events/{id}", retrieve),
    ("POST", "/v1/webhook_endpoints", create_endpoint),
    ("GET", "/v1/webhook_endpoints", list_endpoints),
    ("GET", "/v1/webhook_endpoints/{id}", retrieve_endpoint),
    ("DELETE", "/v1/webhook_endpoints/{id}", delete_endpoint),
]
