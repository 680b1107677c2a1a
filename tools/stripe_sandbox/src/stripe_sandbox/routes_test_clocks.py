"""/v1/test_helpers/test_clocks as handles on the sandbox's single clock.

Stripe scopes a test clock to the customers attached to it; the sandbox has one clock
for everything, so every test clock shows that clock's time and advancing any of them
advances it (running renewals, trial ends and retries, like ``/_sandbox/clock/advance``).

Since every customer lives on that clock, every customer is attached to a test clock, as
on Stripe: the one named in ``customers.create``'s ``test_clock``, else the sandbox's own
(``sandbox_clock``, made on first use). Their subscriptions carry it (``test_clock``), so a
client reads Stripe's notion of now for a subscription as it must on Stripe: the test
clock's ``frozen_time``.
"""

from __future__ import annotations

from stripe_sandbox import billing_cycle
from stripe_sandbox.api import Ctx, paginate
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.state import State

DELETES_AFTER = 30 * 86_400


def _view(state: State, clock: JSON) -> JSON:
    shown = {key: value for key, value in clock.items() if not key.startswith("_")}
    return {**shown, "frozen_time": state.now()}


def create(ctx: Ctx) -> JSON:
    ctx.params.integer("frozen_time", required=True)
    clock = {
        "id": new_id("clock_"),
        "object": "test_helpers.test_clock",
        "created": ctx.now,
        "deletes_after": ctx.now + DELETES_AFTER,
        "frozen_time": ctx.now,
        "livemode": False,
        "name": ctx.params.text("name"),
        "status": "ready",
        "status_details": {},
    }
    ctx.state.put("test_helpers.test_clock", clock)
    return _view(ctx.state, clock)


SANDBOX_CLOCK_NAME = "sandbox"


def sandbox_clock(state: State) -> str:
    """The id of the sandbox's own test clock, made on first use (and after a reset)."""
    for clock in state.all("test_helpers.test_clock"):
        if clock.get("name") == SANDBOX_CLOCK_NAME and clock.get("_sandbox"):
            return str(clock["id"])
    now = state.now()
    clock = {
        "id": new_id("clock_"),
        "object": "test_helpers.test_clock",
        "created": now,
        "deletes_after": now + DELETES_AFTER,
        "frozen_time": now,
        "livemode": False,
        "name": SANDBOX_CLOCK_NAME,
        "status": "ready",
        "status_details": {},
        "_sandbox": True,
    }
    state.put("test_helpers.test_clock", clock)
    return str(clock["id"])


def _clock(ctx: Ctx) -> JSON:
    return ctx.state.require("test_helpers.test_clock", ctx.path["id"], "test_clock")


def retrieve(ctx: Ctx) -> JSON:
    return _view(ctx.state, _clock(ctx))


def list_(ctx: Ctx) -> JSON:
    found = [_view(ctx.state, c) for c in ctx.state.all("test_helpers.test_clock")]
    return paginate(ctx.params, found, "/v1/test_helpers/test_clocks")


def advance(ctx: Ctx) -> JSON:
    clock = _clock(ctx)
    target = ctx.params.integer("frozen_time", required=True)
    assert target is not None
    billing_cycle.advance(ctx.state, ctx.config, target, param="frozen_time")
    return _view(ctx.state, clock)


def delete(ctx: Ctx) -> JSON:
    clock = _clock(ctx)
    ctx.state.remove("test_helpers.test_clock", clock["id"])
    return {"id": clock["id"], "object": "test_helpers.test_clock", "deleted": True}


ROUTES = [
    ("POST", "/v1/test_helpers/test_clocks", create),
    ("GET", "/v1/test_helpers/test_clocks", list_),
    ("GET", "/v1/test_helpers/test_clocks/{id}", retrieve),
    ("POST", "/v1/test_helpers/test_clocks/{id}/advance", advance),
    ("DELETE", "/v1/test_helpers/test_clocks/{id}", delete),
]
