"""/v1/products and /v1/prices, plus the seeded catalogue."""

from __future__ import annotations

from stripe_sandbox.api import Ctx, paginate
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError, parameter_missing
from stripe_sandbox.events import emit
from stripe_sandbox.forms import Params, merge_metadata
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.catalog import price, product
from stripe_sandbox.objects.common import JSON
from stripe_sandbox.state import State

INTERVALS = ("day", "week", "month", "year")


def new_product(state: State, config: SandboxConfig, p: Params) -> JSON:
    prod = product(
        id=p.text("id") or new_id("prod_", 14),
        created=state.now(),
        name=p.req("name"),
        description=p.text("description"),
        metadata=p.metadata() or {},
        active=p.flag("active") is not False,
    )
    if state.get("product", prod["id"]) is not None:
        raise StripeError("Product already exists.", code="resource_already_exists", param="id")
    state.put("product", prod)
    emit(state, "product.created", prod)
    return prod


def new_price(state: State, config: SandboxConfig, p: Params) -> JSON:
    currency = p.req("currency").lower()
    unit_amount = p.integer("unit_amount", minimum=0)
    if unit_amount is None:
        raise parameter_missing("unit_amount")
    product_data = p.sub("product_data")
    if product_data is not None:
        prod = new_product(state, config, product_data)
    else:
        prod = state.require("product", p.req("product"), "product")
    recurring = p.sub("recurring")
    interval = recurring.choice("interval", INTERVALS) if recurring else None
    if recurring is not None and interval is None:
        raise parameter_missing("recurring[interval]")
    lookup_key = p.text("lookup_key")
    _claim_lookup_key(state, lookup_key, p.flag("transfer_lookup_key") is True)
    created = price(
        id=new_id("price_"),
        created=state.now(),
        product=prod["id"],
        currency=currency,
        unit_amount=unit_amount,
        interval=interval,
        interval_count=(recurring.integer("interval_count", minimum=1) if recurring else None) or 1,
        trial_period_days=recurring.integer("trial_period_days", minimum=0) if recurring else None,
        lookup_key=lookup_key,
        nickname=p.text("nickname"),
        metadata=p.metadata() or {},
        active=p.flag("active") is not False,
    )
    state.put("price", created)
    if prod["default_price"] is None:
        prod["default_price"] = created["id"]
        state.touch("product", prod["id"])
    emit(state, "price.created", created)
    return created


def _claim_lookup_key(state: State, lookup_key: str | None, transfer: bool) -> None:
    if lookup_key is None:
        return
    for existing in state.all("price"):
        if existing["lookup_key"] == lookup_key:
            if not transfer:
                raise StripeError(
                    f"A price (`{existing['id']}`) already uses that lookup key.",
                    param="lookup_key",
                )
            existing["lookup_key"] = None
            state.touch("price", existing["id"])


def seed(state: State, config: SandboxConfig) -> None:
    state.muted = True
    try:
        _seed(state, config)
    finally:
        state.muted = False


def _seed(state: State, config: SandboxConfig) -> None:
    """One product per plan name, with its prices (a plan's monthly and yearly prices
    are two prices of one product, as on Stripe)."""
    for spec in config.seed_prices:
        if any(p["lookup_key"] == spec.lookup_key for p in state.all("price")):
            continue
        product = next(
            (p["id"] for p in state.all("product") if p.get("name") == spec.product_name), None
        )
        data: dict[str, object] = {
            "currency": spec.currency,
            "unit_amount": str(spec.unit_amount),
            "lookup_key": spec.lookup_key,
            "nickname": spec.product_name,
            "recurring": {"interval": spec.interval},
        }
        if product is None:
            data["product_data"] = {"name": spec.product_name}
        else:
            data["product"] = product
        if spec.trial_period_days is not None:
            data["recurring"] = {
                "interval": spec.interval,
                "trial_period_days": str(spec.trial_period_days),
            }
        new_price(state, config, Params(data))


def create_product(ctx: Ctx) -> JSON:
    return new_product(ctx.state, ctx.config, ctx.params)


def retrieve_product(ctx: Ctx) -> JSON:
    return ctx.state.require("product", ctx.path["id"])


def update_product(ctx: Ctx) -> JSON:
    prod = ctx.state.require("product", ctx.path["id"])
    before = ctx.state.snapshot(prod)
    for field in ("name", "description"):
        if ctx.params.has(field):
            prod[field] = ctx.params.text(field)
    active = ctx.params.flag("active")
    if active is not None:
        prod["active"] = active
    prod["metadata"] = merge_metadata(prod["metadata"], ctx.params.metadata())
    prod["updated"] = ctx.now
    ctx.state.touch("product", prod["id"])
    emit(ctx.state, "product.updated", prod, previous=before)
    return prod


def list_products(ctx: Ctx) -> JSON:
    found = ctx.state.all("product")
    active = ctx.params.flag("active")
    if active is not None:
        found = [p for p in found if p["active"] == active]
    return paginate(ctx.params, found, "/v1/products")


def create_price(ctx: Ctx) -> JSON:
    return new_price(ctx.state, ctx.config, ctx.params)


def retrieve_price(ctx: Ctx) -> JSON:
    return ctx.state.require("price", ctx.path["id"])


def update_price(ctx: Ctx) -> JSON:
    found = ctx.state.require("price", ctx.path["id"])
    before = ctx.state.snapshot(found)
    p = ctx.params
    if p.has("lookup_key"):
        key = p.text("lookup_key")
        _claim_lookup_key(ctx.state, key, p.flag("transfer_lookup_key") is True)
        found["lookup_key"] = key
    if p.has("nickname"):
        found["nickname"] = p.text("nickname")
    active = p.flag("active")
    if active is not None:
        found["active"] = active
    found["metadata"] = merge_metadata(found["metadata"], p.metadata())
    ctx.state.touch("price", found["id"])
    emit(ctx.state, "price.updated", found, previous=before)
    return found


def list_prices(ctx: Ctx) -> JSON:
    p = ctx.params
    found = ctx.state.all("price")
    keys = p.strings("lookup_keys")
    if keys:
        found = [x for x in found if x["lookup_key"] in keys]
    active = p.flag("active")
    if active is not None:
        found = [x for x in found if x["active"] == active]
    prod = p.text("product")
    if prod is not None:
        found = [x for x in found if x["product"] == prod]
    kind = p.choice("type", ("recurring", "one_time"))
    if kind is not None:
        found = [x for x in found if x["type"] == kind]
    return paginate(p, found, "/v1/prices")


ROUTES = [
    ("POST", "/v1/products", create_product),
    ("GET", "/v1/products", list_products),
    ("GET", "/v1/products/{id}", retrieve_product),
    ("POST", "/v1/products/{id}", update_product),
    ("POST", "/v1/prices", create_price),
    ("GET", "/v1/prices", list_prices),
    ("GET", "/v1/prices/{id}", retrieve_price),
    ("POST", "/v1/prices/{id}", update_price),
]
