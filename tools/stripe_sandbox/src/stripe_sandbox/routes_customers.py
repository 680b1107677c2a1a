"""/v1/customers (create, retrieve, update, list, search, delete) and payment methods."""

from __future__ import annotations

import re

from stripe_sandbox.api import Ctx, paginate
from stripe_sandbox.billing_cycle import cancel_now
from stripe_sandbox.billing_engine import ENDED
from stripe_sandbox.errors import StripeError
from stripe_sandbox.events import emit
from stripe_sandbox.forms import merge_metadata
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.common import JSON, search_result
from stripe_sandbox.objects.customer import customer
from stripe_sandbox.routes_payment_methods import require_attached
from stripe_sandbox.routes_test_clocks import sandbox_clock

_FIELDS = ("email", "name", "description", "phone")


def create(ctx: Ctx) -> JSON:
    p = ctx.params
    cus = customer(
        id=new_id("cus_", 14),
        created=ctx.now,
        email=p.text("email"),
        name=p.text("name"),
        description=p.text("description"),
        phone=p.text("phone"),
        metadata=p.metadata() or {},
        invoice_prefix=new_id("", 8).upper(),
    )
    cus["preferred_locales"] = p.strings("preferred_locales")
    clock = p.text("test_clock")
    if clock is not None:
        ctx.state.require("test_helpers.test_clock", clock, "test_clock")
    cus["test_clock"] = clock or sandbox_clock(ctx.state)
    pm = p.text("payment_method")
    if pm is not None:
        found = ctx.state.require("payment_method", pm, "payment_method")
        found["customer"] = cus["id"]
        cus["invoice_settings"]["default_payment_method"] = pm
    ctx.state.put("customer", cus)
    emit(ctx.state, "customer.created", cus)
    return cus


def _customer(ctx: Ctx) -> JSON:
    cus = ctx.state.require("customer", ctx.path["id"])
    if cus.get("deleted"):
        raise StripeError(
            f"No such customer: '{cus['id']}'", status=404, code="resource_missing", param="id"
        )
    return cus


def retrieve(ctx: Ctx) -> JSON:
    cus = ctx.state.require("customer", ctx.path["id"])
    return {"id": cus["id"], "object": "customer", "deleted": True} if cus.get("deleted") else cus


def update(ctx: Ctx) -> JSON:
    cus = _customer(ctx)
    p = ctx.params
    before = ctx.state.snapshot(cus)
    for field in _FIELDS:
        if p.has(field):
            cus[field] = p.text(field)
    cus["metadata"] = merge_metadata(cus["metadata"], p.metadata())
    if p.has("preferred_locales"):  # an empty string clears them, as on Stripe
        cus["preferred_locales"] = p.strings("preferred_locales")
    clock = p.text("test_clock")
    if clock is not None:
        ctx.state.require("test_helpers.test_clock", clock, "test_clock")
    cus["test_clock"] = clock or sandbox_clock(ctx.state)
    settings = p.sub("invoice_settings")
    if settings is not None and settings.has("default_payment_method"):
        pm = settings.text("default_payment_method")
        if pm is not None:
            require_attached(ctx.state, pm, cus["id"], "invoice_settings[default_payment_method]")
        cus["invoice_settings"]["default_payment_method"] = pm
    ctx.state.touch("customer", cus["id"])
    if cus != before:
        emit(ctx.state, "customer.updated", cus, previous=before)
    return cus


def delete(ctx: Ctx) -> JSON:
    cus = _customer(ctx)
    cus["deleted"] = True
    ctx.state.touch("customer", cus["id"])
    for sub in ctx.state.all("subscription"):
        if sub["customer"] == cus["id"] and sub["status"] not in ENDED:
            cancel_now(ctx.state, ctx.config, sub)
    emit(ctx.state, "customer.deleted", {k: v for k, v in cus.items() if k != "deleted"})
    return {"id": cus["id"], "object": "customer", "deleted": True}


def _live(ctx: Ctx) -> list[JSON]:
    return [c for c in ctx.state.all("customer") if not c.get("deleted")]


def list_(ctx: Ctx) -> JSON:
    found = _live(ctx)
    email = ctx.params.text("email")
    if email is not None:
        found = [c for c in found if c["email"] == email]
    return paginate(ctx.params, found, "/v1/customers")


_CLAUSE = re.compile(
    r"""^\s*(?P<field>\w+)(?:\[\s*['"](?P<key>[^'"]+)['"]\s*\])?\s*(?P<op>:|~)\s*"""
    r"""(?:['"](?P<value>[^'"]*)['"]|(?P<bare>[^\s'"]+))\s*$"""
)


def _matches(cus: JSON, field: str, key: str | None, op: str, value: str) -> bool:
    if field == "metadata":
        actual = cus["metadata"].get(key or "")
    elif field in ("email", "name", "phone", "description", "id"):
        actual = cus.get(field)
    else:
        raise StripeError(f"Field '{field}' is an unsupported search field.", param="query")
    if actual is None:
        return False
    return value.lower() in str(actual).lower() if op == "~" else str(actual) == value


def search(ctx: Ctx) -> JSON:
    query = ctx.params.req("query")
    joiner = " OR " if " OR " in query else " AND "
    clauses = []
    for raw in query.split(joiner):
        match = _CLAUSE.match(raw)
        if match is None:
            raise StripeError(f"Invalid search query: {query}", param="query")
        value = match.group("value") if match.group("value") is not None else match.group("bare")
        clauses.append((match.group("field"), match.group("key"), match.group("op"), value))
    combine = any if joiner == " OR " else all
    found = [c for c in reversed(_live(ctx)) if combine(_matches(c, *clause) for clause in clauses)]
    limit = ctx.params.integer("limit", minimum=1) or 10
    return search_result(found[:limit], "/v1/customers/search")


def retrieve_payment_method(ctx: Ctx) -> JSON:
    return ctx.state.require("payment_method", ctx.path["id"])


def list_payment_methods(ctx: Ctx) -> JSON:
    cus = _customer(ctx)
    found = [pm for pm in ctx.state.all("payment_method") if pm["customer"] == cus["id"]]
    return paginate(ctx.params, found, f"/v1/customers/{cus['id']}/payment_methods")


ROUTES = [
    ("POST", "/v1/customers", create),
    ("GET", "/v1/customers", list_),
    ("GET", "/v1/customers/search", search),
    ("GET", "/v1/customers/{id}", retrieve),
    ("POST", "/v1/customers/{id}", update),
    ("DELETE", "/v1/customers/{id}", delete),
    ("GET", "/v1/customers/{id}/payment_methods", list_payment_methods),
    ("GET", "/v1/payment_methods/{id}", retrieve_payment_method),
]
