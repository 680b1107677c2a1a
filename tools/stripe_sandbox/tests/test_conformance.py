"""Every object the sandbox returns has the keys and JSON types of Stripe's fixture.

Fixtures: Stripe's openapi fixtures (API 2026-07-29), kept in the repository at
libs/platform/src/billing_platform/testing/data/stripe/fixtures3.json.
A difference fails the test unless ALLOWED lists it with the reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from billing_platform.testing.stripe_fixtures import fixtures_path
from stripe_sandbox.testing import CARD_DECLINED, CARD_OK, DAY, Journey

pytestmark = pytest.mark.e2e

FIXTURES = fixtures_path()

# The allowlist. Paths use "[]" for list elements; each entry allows exactly one kind
# of difference at that path, nothing else.

# Nullable fields the fixture shows filled in (a sample of the populated shape) and
# that Stripe answers as null when the feature is not in use: no tax, shipping,
# discounts, Connect, thresholds, pauses, pending updates, trials or cancels on that
# object, an expired/complete session's url, a not-yet-due invoice date, and so on.
# Difference allowed: "null<-T".
UNSET: dict[str, tuple[str, ...]] = {
    "billing_portal.session": ("flow",),
    "checkout.session": (
        "adaptive_pricing",
        "after_expiration",
        "automatic_tax.liability",
        "collected_information",
        "consent",
        "consent_collection",
        "currency_conversion",
        "custom_text.after_submit",
        "custom_text.shipping_address",
        "custom_text.submit",
        "custom_text.terms_of_service_acceptance",
        "customer_details",
        "customer_details.address",
        "invoice_creation",
        "managed_payments",
        "payment_intent",
        "payment_method_configuration_details",
        "permissions",
        "saved_payment_method_options",
        "shipping_address_collection",
        "shipping_cost",
        "url",
        "wallet_options",
    ),
    "customer": (
        "address",
        "currency",
        "discount",
        "invoice_settings.rendering_options",
        "shipping",
    ),
    "invoice": (
        "automatic_tax.liability",
        "customer_address",
        "customer_shipping",
        "due_date",
        "effective_at",
        "from_invoice",
        "last_finalization_error",
        "lines.data[].invoice",
        "lines.data[].parent.invoice_item_details",
        "lines.data[].parent.subscription_item_details.proration_details.credited_items",
        "next_payment_attempt",
        "parent.quote_details",
        "payment_settings.payment_method_options",
        "rendering",
        "shipping_cost",
        "shipping_details",
        "webhooks_delivered_at",
    ),
    "item": (
        "adjustable_quantity",
        "price.custom_unit_amount",
        "price.transform_quantity",
    ),
    "line_item": (
        "parent.invoice_item_details",
        "parent.subscription_item_details.proration_details.credited_items",
    ),
    "payment_method": (
        "billing_details.address.city",
        "billing_details.address.country",
        "billing_details.address.line1",
        "billing_details.address.postal_code",
        "billing_details.address.state",
        "billing_details.email",
        "billing_details.phone",
        "card.generated_from",
        "card.wallet",
    ),
    "price": (
        "custom_unit_amount",
        "transform_quantity",
    ),
    "product": (
        "description",
        "package_dimensions",
    ),
    "subscription": (
        "automatic_tax.liability",
        "billing_cycle_anchor_config",
        "billing_mode.flexible",
        "billing_thresholds",
        "cancel_at",
        "canceled_at",
        "ended_at",
        "items.data[].billing_thresholds",
        "items.data[].plan.transform_usage",
        "items.data[].price.custom_unit_amount",
        "items.data[].price.transform_quantity",
        "managed_payments",
        "next_pending_invoice_item_invoice",
        "pause_collection",
        "payment_settings.payment_method_options",
        "pending_invoice_item_interval",
        "pending_update",
        "transfer_data",
        "trial_end",
        "trial_start",
    ),
    "subscription_item": (
        "billing_thresholds",
        "plan.transform_usage",
        "price.custom_unit_amount",
        "price.transform_quantity",
    ),
    "subscription_schedule": (
        "billing_mode.flexible",
        "canceled_at",
        "completed_at",
        "default_settings.automatic_tax.liability",
        "default_settings.billing_thresholds",
        "default_settings.transfer_data",
        "phases[].billing_thresholds",
        "phases[].invoice_settings",
        "phases[].items[].billing_thresholds",
        "phases[].transfer_data",
        "released_at",
    ),
    "webhook_endpoint": ("description",),
}

# Nullable fields whose fixture sample happens to be null and that the sandbox fills
# in: ids linking objects (customer, subscription, invoice, latest_invoice, schedule),
# amounts and statuses of a real session/invoice, lookup keys and nicknames of the
# seeded prices, event request ids, tax arrays that Stripe returns as [] today.
# Difference allowed: "T<-null".
SAMPLE_NULL: dict[str, tuple[str, ...]] = {
    "checkout.session": (
        "amount_subtotal",
        "amount_total",
        "client_reference_id",
        "currency",
        "customer",
        "customer_details.tax_ids",
        "discounts",
        "invoice",
        "payment_method_collection",
        "subscription",
        "total_details.amount_shipping",
        "ui_mode",
    ),
    "customer": (
        "email",
        "invoice_settings.default_payment_method",
    ),
    "event": (
        "api_version",
        "request.id",
        "request.idempotency_key",
    ),
    "invoice": (
        "account_name",
        "customer_email",
        "default_payment_method",
        "hosted_invoice_url",
        "invoice_pdf",
        "lines.data[].pretax_credit_amounts",
        "lines.data[].pricing.unit_amount_decimal",
        "lines.data[].quantity_decimal",
        "lines.data[].subscription",
        "lines.data[].taxes",
        "number",
        "status_transitions.finalized_at",
        "status_transitions.paid_at",
        "subscription",
        "total_pretax_credit_amounts",
        "total_taxes",
    ),
    "item": (
        "price.lookup_key",
        "price.nickname",
    ),
    "line_item": (
        "pretax_credit_amounts",
        "pricing.unit_amount_decimal",
        "quantity_decimal",
        "subscription",
        "taxes",
    ),
    "payment_method": (
        "card.regulated_status",
        "customer",
    ),
    "price": (
        "lookup_key",
        "nickname",
    ),
    "subscription": (
        "cancellation_details.reason",
        "default_payment_method",
        "items.data[].plan.amount",
        "items.data[].plan.amount_decimal",
        "items.data[].plan.nickname",
        "items.data[].plan.product",
        "items.data[].price.lookup_key",
        "items.data[].price.nickname",
        "latest_invoice",
        "payment_settings.save_default_payment_method",
        "schedule",
    ),
    "subscription_item": (
        "plan.amount",
        "plan.amount_decimal",
        "plan.nickname",
        "plan.product",
        "price.lookup_key",
        "price.nickname",
    ),
    "subscription_schedule": ("subscription",),
    "webhook_endpoint": ("api_version",),
}

# Keys the sandbox sends that the fixture lacks, and type differences, one by one.
OTHER: dict[tuple[str, str], tuple[str, str]] = {
    # Update events carry the old values of changed fields, as Stripe's do.
    ("event", "data.previous_attributes"): ("extra", "Stripe sends it on *.updated events"),
    # Stripe fills pricing.price_details {price, product} when pricing.type is
    # price_details; the fixture's sample leaves it out. Consumers read the price here.
    ("invoice", "lines.data[].pricing.price_details"): ("extra", "set for price lines"),
    ("line_item", "pricing.price_details"): ("extra", "set for price lines"),
    # A phase item's plan is an expandable id in the API; the fixture shows it expanded.
    ("subscription_schedule", "phases[].items[].plan"): ("string<-object", "not expanded"),
}


def allowed(kind: str, path: str, what: str) -> bool:
    if what.startswith("null<-") and path in UNSET.get(kind, ()):
        return True
    if what.endswith("<-null") and path in SAMPLE_NULL.get(kind, ()):
        return True
    return OTHER.get((kind, path), ("", ""))[0] == what


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def differences(actual: Any, expected: Any, path: str = "") -> list[tuple[str, str]]:
    """(path, what) for every key or type that differs, recursively."""
    got, want = json_type(actual), json_type(expected)
    if got != want:
        return [(path, f"{got}<-{want}")]
    if got == "object":
        found = []
        for key in sorted(set(expected) - set(actual)):
            found.append((f"{path}.{key}".lstrip("."), "missing"))
        for key in sorted(set(actual) - set(expected)):
            found.append((f"{path}.{key}".lstrip("."), "extra"))
        for key in sorted(set(actual) & set(expected)):
            if key == "metadata":
                continue  # free-form string map: only its type matters
            found += differences(actual[key], expected[key], f"{path}.{key}".lstrip("."))
        return found
    if got == "array" and actual and expected:
        found = []
        for element in actual:
            found += differences(element, expected[0], f"{path}[]")
        return sorted(set(found))
    return []


def unexplained(
    obj: dict[str, Any], fixtures: dict[str, Any], kind: str | None = None
) -> list[str]:
    kind = kind or obj["object"]
    return [
        f"{kind}: {path} {what}"
        for path, what in differences(obj, fixtures[kind])
        if not allowed(kind, path, what)
    ]


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(FIXTURES.read_text())["resources"]
    return resources


async def collect(journey: Journey, fixtures: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Drive every resource, then fetch raw JSON for each object type the sandbox serves."""
    http = journey.http
    hook = await journey.client.v1.webhook_endpoints.create_async(
        params={"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]}
    )
    sub = await journey.subscribe("team_monthly")
    trial = await journey.subscribe("solo_monthly", trial_days=7, card=CARD_DECLINED)
    await journey.subscribe("solo_monthly", trial_days=3, card=CARD_DECLINED)  # will fail
    await journey.client.v1.subscriptions.update_async(
        trial.id, params={"cancel_at_period_end": True}
    )
    schedule = await journey.client.v1.subscription_schedules.create_async(
        params={"from_subscription": sub.id}
    )
    portal = await journey.client.v1.billing_portal.sessions.create_async(
        params={"customer": sub.customer, "return_url": "https://app.example"}
    )
    open_session = await journey.checkout("solo_monthly")
    await journey.client.v1.checkout.sessions.expire_async(
        (await journey.checkout("solo_monthly")).id
    )
    solo = await journey.price("solo_monthly")
    await journey.client.v1.subscription_schedules.update_async(
        schedule.id,
        params={
            "phases": [
                {
                    "items": [{"price": sub.items.data[0].price.id}],
                    "start_date": sub.created,
                    "end_date": sub.items.data[0].current_period_end,
                },
                {"items": [{"price": solo.id}], "iterations": 1},
            ]
        },
    )
    await journey.advance(40 * DAY)  # renewals, a failed payment, a cancel, trial_will_end
    await http.post(f"/_sandbox/customers/{sub.customer}/card", json={"card": CARD_OK})
    deleted = await journey.client.v1.customers.create_async()
    await journey.client.v1.customers.delete_async(deleted.id)

    async def get(path: str, **params: Any) -> dict[str, Any]:
        response = await http.get(path, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    objects: list[tuple[str, dict[str, Any]]] = []
    customer = await get(f"/v1/customers/{sub.customer}")
    objects.append(("customer", customer))
    objects.append(("deleted_customer", await get(f"/v1/customers/{deleted.id}")))
    pm = customer["invoice_settings"]["default_payment_method"]
    objects.append(("payment_method", await get(f"/v1/payment_methods/{pm}")))
    for price in (await get("/v1/prices"))["data"]:
        objects.append(("price", price))
    for product in (await get("/v1/products"))["data"]:
        objects.append(("product", product))
    for session in (await get("/v1/checkout/sessions", limit=100))["data"]:
        objects.append(("checkout.session", session))
    items = await get(f"/v1/checkout/sessions/{open_session.id}/line_items")
    objects += [("item", item) for item in items["data"]]
    objects.append(("billing_portal.session", portal.to_dict()))
    for s in (await get("/v1/subscriptions", status="all"))["data"]:
        objects.append(("subscription", s))
        objects += [("subscription_item", i) for i in s["items"]["data"]]
    objects.append(
        ("subscription_schedule", await get(f"/v1/subscription_schedules/{schedule.id}"))
    )
    for invoice in (await get("/v1/invoices", limit=100))["data"]:
        objects.append(("invoice", invoice))
        objects += [("line_item", line) for line in invoice["lines"]["data"]]
    events: list[dict[str, Any]] = []
    page = await get("/v1/events", limit=100)
    events += page["data"]
    while page["has_more"]:
        page = await get("/v1/events", limit=100, starting_after=events[-1]["id"])
        events += page["data"]
    assert {e["type"] for e in events} >= {
        "checkout.session.completed",
        "checkout.session.expired",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        "invoice.payment_failed",
        "invoice.upcoming",
        "subscription_schedule.updated",
    }
    for event in events:
        # The payload is checked against its own type's fixture; the envelope here.
        inner = event["data"]["object"]
        objects.append((inner["object"], inner))
        event["data"]["object"] = fixtures["event"]["data"]["object"]
        objects.append(("event", event))
    objects.append(("webhook_endpoint", await get(f"/v1/webhook_endpoints/{hook.id}")))
    clock = await journey.client.v1.test_helpers.test_clocks.create_async(params={"frozen_time": 1})
    objects.append(
        ("test_helpers.test_clock", await get(f"/v1/test_helpers/test_clocks/{clock.id}"))
    )
    return objects


async def test_every_object_matches_its_fixture(journey: Journey, fixtures: dict[str, Any]) -> None:
    objects = await collect(journey, fixtures)
    kinds = {kind for kind, _ in objects}
    assert kinds >= {
        "customer",
        "deleted_customer",
        "payment_method",
        "price",
        "product",
        "checkout.session",
        "item",
        "billing_portal.session",
        "subscription",
        "subscription_item",
        "subscription_schedule",
        "invoice",
        "line_item",
        "event",
        "webhook_endpoint",
        "test_helpers.test_clock",
    }
    problems = sorted({p for kind, obj in objects for p in unexplained(obj, fixtures, kind)})
    assert problems == [], "\n".join(problems)
    # And the allowlist holds nothing that no longer happens.
    seen = {(kind, path) for kind, obj in objects for path, _ in differences(obj, fixtures[kind])}
    listed = {(k, p) for table in (UNSET, SAMPLE_NULL) for k, paths in table.items() for p in paths}
    assert listed | set(OTHER) <= seen, sorted((listed | set(OTHER)) - seen)


@pytest.mark.unit
def test_comparator_reports_missing_extra_and_type_changes() -> None:
    fixture = {"a": 1, "b": {"c": "x"}, "l": [{"k": True}]}
    actual = {"a": "1", "b": {"d": "x"}, "l": [{"k": None}]}
    assert differences(actual, fixture) == [
        ("a", "string<-number"),
        ("b.c", "missing"),
        ("b.d", "extra"),
        ("l[].k", "null<-boolean"),
    ]
