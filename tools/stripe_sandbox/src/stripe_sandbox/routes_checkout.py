"""/v1/checkout/sessions and /v1/billing_portal/sessions."""

from __future__ import annotations

from stripe_sandbox import trials
from stripe_sandbox.api import Ctx, paginate
from stripe_sandbox.checkout_flow import expire, expire_if_due
from stripe_sandbox.errors import StripeError, parameter_missing
from stripe_sandbox.ids import new_id
from stripe_sandbox.objects.checkout import checkout_session, portal_session
from stripe_sandbox.objects.common import JSON, list_object
from stripe_sandbox.setup_flow import refuse_setup_params

MODES = ("subscription", "payment", "setup")
SESSION_TTL = 24 * 3600
MAX_TRIAL_DAYS = 730


def create(ctx: Ctx) -> JSON:
    p = ctx.params
    mode = p.choice("mode", MODES)
    if mode is None:
        raise parameter_missing("mode")
    if mode == "payment":
        raise StripeError(
            "The sandbox supports only mode=subscription and mode=setup.",
            param="mode",
        )
    customer_id = p.text("customer")
    if customer_id is not None:
        found = ctx.state.require("customer", customer_id, "customer")
        if found.get("deleted"):
            raise StripeError(
                f"No such customer: '{customer_id}'",
                status=404,
                code="resource_missing",
                param="customer",
            )
    if customer_id is not None and p.has("customer_email"):
        raise StripeError(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    if mode == "setup":
        return _create_setup(ctx, customer_id)
    lines = p.items("line_items")
    if not lines:
        raise parameter_missing("line_items")
    line_items: list[tuple[str, int]] = []
    amount = 0
    currency = None
    for line in lines:
        price = ctx.state.require("price", line.req("price"), line.name("price"))
        if price["type"] != "recurring":
            raise StripeError(
                "You must provide at least one recurring price in `subscription` mode.",
                param=line.name("price"),
            )
        if not price["active"]:
            raise StripeError(
                "The price specified is inactive. This field only accepts active prices.",
                param=line.name("price"),
            )
        if currency is not None and price["currency"] != currency:
            raise StripeError(
                "All line items must have the same currency.", param=line.name("price")
            )
        qty = line.integer("quantity", minimum=1) or 1
        line_items.append((price["id"], qty))
        amount += price["unit_amount"] * qty
        currency = price["currency"]
    collection = p.choice("payment_method_collection", trials.PAYMENT_METHOD_COLLECTION)
    if collection is not None and mode != "subscription":
        raise StripeError(
            "payment_method_collection can only be set in subscription mode.",
            param="payment_method_collection",
        )
    sub_data = p.sub("subscription_data")
    trial_days = sub_data.integer("trial_period_days", minimum=1) if sub_data else None
    trial_settings = sub_data.sub("trial_settings") if sub_data else None
    end = trial_settings.sub("end_behavior") if trial_settings else None
    if trial_settings is not None and end is None:
        raise parameter_missing("subscription_data[trial_settings][end_behavior]")
    end_behavior = end.choice("missing_payment_method", trials.END_BEHAVIORS) if end else None
    if end is not None and end_behavior is None:
        raise parameter_missing(
            "subscription_data[trial_settings][end_behavior][missing_payment_method]"
        )
    if trial_days is not None and trial_days > MAX_TRIAL_DAYS:
        raise StripeError(
            f"The trial period can be at most {MAX_TRIAL_DAYS} days.",
            code="parameter_invalid_integer",
            param="subscription_data[trial_period_days]",
        )
    session_id = new_id("cs_test_a1", 56)
    expires_at = p.integer("expires_at") or ctx.now + SESSION_TTL
    session = checkout_session(
        id=session_id,
        created=ctx.now,
        expires_at=expires_at,
        url=f"{ctx.config.base_url}/checkout/{session_id}",
        mode=mode,
        customer=customer_id,
        customer_email=p.text("customer_email"),
        client_reference_id=p.text("client_reference_id"),
        success_url=p.text("success_url"),
        cancel_url=p.text("cancel_url"),
        currency=currency,
        amount_subtotal=amount,
        amount_total=0 if trial_days else amount,  # a trial charges nothing today
        metadata=p.metadata() or {},
    )
    session["payment_method_collection"] = collection or "always"
    ctx.state.put("checkout.session", session)
    record = ctx.state.record("_cs", session_id)
    record.update(
        line_items=line_items,
        trial_days=trial_days,
        subscription_metadata=sub_data.metadata() if sub_data else None,
        subscription_description=sub_data.text("description") if sub_data else None,
        payment_method_collection=collection or "always",
        trial_end_behavior=end_behavior,
    )
    return session


def _create_setup(ctx: Ctx, customer_id: str | None) -> JSON:
    p = ctx.params
    currency = refuse_setup_params(p)
    session_id = new_id("cs_test_c1", 56)
    session = checkout_session(
        id=session_id,
        created=ctx.now,
        expires_at=p.integer("expires_at") or ctx.now + SESSION_TTL,
        url=f"{ctx.config.base_url}/checkout/{session_id}",
        mode="setup",
        customer=customer_id,
        customer_email=p.text("customer_email"),
        client_reference_id=p.text("client_reference_id"),
        success_url=p.text("success_url"),
        cancel_url=p.text("cancel_url"),
        currency=currency,
        amount_subtotal=None,
        amount_total=None,
        metadata=p.metadata() or {},
    )
    session["payment_status"] = "no_payment_required"
    ctx.state.put("checkout.session", session)
    intent_data = p.sub("setup_intent_data")
    ctx.state.record("_cs", session_id).update(
        line_items=[],
        trial_days=None,
        setup_intent_metadata=intent_data.metadata() if intent_data else None,
    )
    return session


def retrieve(ctx: Ctx) -> JSON:
    session = ctx.state.require("checkout.session", ctx.path["id"], "session")
    expire_if_due(ctx.state, ctx.config, session)
    if "line_items" in ctx.expand:  # includable: not a field until asked for
        return {**session, "line_items": line_items(ctx)}
    return session


def list_(ctx: Ctx) -> JSON:
    found = ctx.state.all("checkout.session")
    for field in ("customer", "subscription", "status", "payment_intent"):
        value = ctx.params.text(field)
        if value is not None:
            found = [s for s in found if s[field] == value]
    return paginate(ctx.params, found, "/v1/checkout/sessions")


def expire_session(ctx: Ctx) -> JSON:
    session = ctx.state.require("checkout.session", ctx.path["id"], "session")
    expire(ctx.state, ctx.config, session)
    return session


def line_items(ctx: Ctx) -> JSON:
    session = ctx.state.require("checkout.session", ctx.path["id"], "session")
    expire_if_due(ctx.state, ctx.config, session)
    record = ctx.state.require("_cs", session["id"])
    data = []
    for price_id, qty in record["line_items"]:
        price = ctx.state.require("price", price_id)
        product = ctx.state.get("product", price["product"])
        total = price["unit_amount"] * qty
        data.append(
            {
                "id": new_id("li_"),
                "object": "item",
                "amount_discount": 0,
                "amount_subtotal": total,
                "amount_tax": 0,
                "amount_total": total,
                "currency": price["currency"],
                "description": product["name"] if product else None,
                "price": price,
                "quantity": qty,
                "metadata": {},
                "adjustable_quantity": None,
            }
        )
    return list_object(data, f"/v1/checkout/sessions/{session['id']}/line_items")


def create_portal(ctx: Ctx) -> JSON:
    p = ctx.params
    cus = ctx.state.require("customer", p.req("customer"), "customer")
    session_id = new_id("bps_")
    session = portal_session(
        id=session_id,
        created=ctx.now,
        customer=cus["id"],
        configuration=p.text("configuration") or "bpc_sandboxdefault",
        return_url=p.text("return_url"),
        url=f"{ctx.config.base_url}/portal/{session_id}",
    )
    ctx.state.put("billing_portal.session", session)
    return session


ROUTES = [
    ("POST", "/v1/checkout/sessions", create),
    ("GET", "/v1/checkout/sessions", list_),
    ("GET", "/v1/checkout/sessions/{id}", retrieve),
    ("POST", "/v1/checkout/sessions/{id}/expire", expire_session),
    ("GET", "/v1/checkout/sessions/{id}/line_items", line_items),
    ("POST", "/v1/billing_portal/sessions", create_portal),
]
