"""Test controls under /_sandbox: webhooks, clock, cards, reset. JSON or form bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from stripe_sandbox import billing_cycle, routes_payment_methods
from stripe_sandbox.api import Sandbox
from stripe_sandbox.errors import StripeError, parameter_missing
from stripe_sandbox.forms import Params, decode_form
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.routes_catalog import seed
from stripe_sandbox.routes_events import add_endpoint
from stripe_sandbox.routes_subscriptions import set_card


async def _params(request: Request) -> Params:
    body = await request.body()
    if not body.strip():
        return Params({})
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise StripeError("Request body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise StripeError("Request body must be a JSON object.")
        return Params({k: _as_form(v) for k, v in data.items()})
    return Params(decode_form(body))


def _as_form(value: Any) -> Any:
    """JSON values as the strings a form would carry, so Params validates both alike."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value))
    if isinstance(value, list):
        return [_as_form(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_form(v) for k, v in value.items()}
    return value


def reset_state(sandbox: Sandbox) -> None:
    sandbox.state.clear()
    sandbox.dispatcher.forget()
    sandbox.dispatcher.enabled = True
    seed(sandbox.state, sandbox.config)
    register_configured_webhooks(sandbox)


def register_configured_webhooks(sandbox: Sandbox) -> None:
    """Make sure every ``config.webhooks`` target is registered (also after a reload)."""
    registered = {(e["url"], e["secret"]) for e in sandbox.state.all("_webhook")}
    for target in sandbox.config.webhooks:
        if (target.url, target.secret) not in registered:
            add_endpoint(
                sandbox.state, sandbox.config, target.url, target.secret, list(target.events)
            )


def build_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(prefix="/_sandbox", include_in_schema=False)
    state, config = sandbox.state, sandbox.config

    async def mutate(request: Request, action: Callable[[Params], JSON]) -> JSONResponse:
        try:
            params = await _params(request)
            async with state.lock:
                try:
                    result = action(params)
                finally:
                    sandbox.commit()
        except StripeError as exc:
            return exc.response()
        return JSONResponse(result)

    def endpoint_view(endpoint: JSON) -> JSON:
        return {**endpoint, "pending": sandbox.dispatcher.pending()}

    @router.post("/webhooks")
    async def add_webhook(request: Request) -> JSONResponse:
        def action(p: Params) -> JSON:
            url = p.text("url")
            if url is None:
                raise parameter_missing("url")
            return endpoint_view(
                add_endpoint(state, config, url, p.text("secret"), p.strings("events"))
            )

        return await mutate(request, action)

    @router.get("/webhooks")
    async def list_webhooks() -> JSONResponse:
        return JSONResponse(
            {
                "data": state.all("_webhook"),
                "pending": sandbox.dispatcher.pending(),
                "attempts": sandbox.dispatcher.attempts[-200:],
            }
        )

    @router.delete("/webhooks")
    async def delete_webhooks() -> JSONResponse:
        async with state.lock:
            for endpoint in state.all("_webhook"):
                state.remove("_webhook", endpoint["id"])
            sandbox.commit()
        return JSONResponse({"deleted": True})

    @router.delete("/webhooks/{endpoint_id}")
    async def delete_webhook(endpoint_id: str) -> JSONResponse:
        async with state.lock:
            if state.get("_webhook", endpoint_id) is None:
                return StripeError(
                    f"No such webhook endpoint: '{endpoint_id}'",
                    status=404,
                    code="resource_missing",
                    param="id",
                ).response()
            state.remove("_webhook", endpoint_id)
            sandbox.commit()
        return JSONResponse({"id": endpoint_id, "deleted": True})

    @router.post("/webhooks/drain")
    async def drain(request: Request) -> JSONResponse:
        """Wait (up to ``timeout`` seconds, default 10) until no delivery is pending."""
        params = await _params(request)
        timeout = float(params.integer("timeout", minimum=0) or 10)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Polling is fine here: a test helper, and the queue has no "became empty" signal.
        while sandbox.dispatcher.pending() and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return JSONResponse({"pending": sandbox.dispatcher.pending()})

    @router.post("/webhooks/deliveries")
    async def deliveries(request: Request) -> JSONResponse:
        """``{"enabled": false}``: record events but send none (they stay undelivered)."""

        def action(p: Params) -> JSON:
            enabled = p.flag("enabled")
            if enabled is None:
                raise parameter_missing("enabled")
            sandbox.dispatcher.enabled = enabled
            return {"enabled": enabled}

        return await mutate(request, action)

    @router.get("/clock")
    async def clock() -> JSONResponse:
        return JSONResponse({"now": state.now(), "offset": state.clock_offset})

    @router.post("/clock/advance")
    async def advance(request: Request) -> JSONResponse:
        def action(p: Params) -> JSON:
            now = state.now()
            to = p.integer("to")
            seconds = p.integer("seconds", minimum=0)
            if to is None and seconds is None:
                raise parameter_missing("seconds")
            target = to if to is not None else now + (seconds or 0)
            param = "to" if to is not None else "seconds"
            steps = billing_cycle.advance(state, config, target, param=param)
            return {"now": state.now(), "offset": state.clock_offset, "steps": steps}

        return await mutate(request, action)

    @router.post("/customers/{customer_id}/card")
    async def card(customer_id: str, request: Request) -> JSONResponse:
        def action(p: Params) -> JSON:
            cus = state.require("customer", customer_id, "customer")
            return set_card(state, cus, p.req("card"))

        return await mutate(request, action)

    @router.post("/payment_methods/{payment_method_id}/automatic_update")
    async def automatic_update(payment_method_id: str, request: Request) -> JSONResponse:
        """The card network's account updater renewed the card: new expiry, same id
        (``payment_method.automatically_updated``). Form: ``exp_month``, ``exp_year``."""

        def action(p: Params) -> JSON:
            pm = state.require("payment_method", payment_method_id, "payment_method")
            month, year = p.integer("exp_month", minimum=1), p.integer("exp_year", minimum=2000)
            if month is None or year is None:
                raise StripeError("exp_month and exp_year are required.")
            return routes_payment_methods.automatic_update(state, pm, month, year)

        return await mutate(request, action)

    @router.post("/reset")
    async def reset(request: Request) -> JSONResponse:
        def action(_: Params) -> JSON:
            reset_state(sandbox)
            return {"reset": True}

        return await mutate(request, action)

    return router
