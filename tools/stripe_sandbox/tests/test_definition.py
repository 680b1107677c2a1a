"""Every object and event the sandbox emits validates against the pinned version's definition.

The definition is the installed stripe SDK's (``stripe.api_version``), read by
``stripe_sandbox.definition``: types, nullability, enums, required keys, and no key
the version does not define. The journeys are this package's own (test_journeys.py)
and the conformance scenario (test_conformance.py): each runs on a fresh sandbox, then
every event it emitted (its ``data.object`` checked on its own) and every object the
API lists is checked.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from billing_platform.testing.stripe_fixtures import fixtures_path
from stripe_sandbox.definition import API_VERSION, check_emitted, check_object
from stripe_sandbox.objects.invoice import invoice, line_item
from stripe_sandbox.testing import Journey

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent

# Documented gaps: (object type, path) -> why the sandbox differs. Keep it empty unless
# a difference is deliberate and explained here.
ALLOWED: dict[tuple[str, str], str] = {}


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"sandbox_definition_{name}", HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def journeys() -> dict[str, Callable[[Journey], Awaitable[Any]]]:
    found: dict[str, Callable[[Journey], Awaitable[Any]]] = {}
    for name, function in vars(_module("test_journeys")).items():
        if (
            name.startswith("test_")
            and inspect.iscoroutinefunction(function)
            and list(inspect.signature(function).parameters) == ["journey"]
        ):
            found[name] = function
    return found


async def _pages(journey: Journey, path: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 100, **params}
    while True:
        response = await journey.http.get(path, params=query)
        assert response.status_code == 200, (path, response.text)
        page = response.json()
        found += page["data"]
        if not page["has_more"]:
            return found
        query["starting_after"] = found[-1]["id"]


async def emitted(journey: Journey) -> list[dict[str, Any]]:
    """Every event of the sandbox and every object its API lists."""
    objects = await _pages(journey, "/v1/events")
    for path, params in (
        ("/v1/customers", {}),
        ("/v1/prices", {}),
        ("/v1/products", {}),
        ("/v1/checkout/sessions", {}),
        ("/v1/subscriptions", {"status": "all"}),
        ("/v1/subscription_schedules", {}),
        ("/v1/invoices", {}),
        ("/v1/webhook_endpoints", {}),
    ):
        objects += await _pages(journey, path, **params)
    customers = [o["id"] for o in objects if o["object"] == "customer"]
    for customer in customers:
        objects += await _pages(journey, f"/v1/customers/{customer}/payment_methods")
    return objects


def problems(
    obj: dict[str, Any], fixtures: dict[str, Any], allowed_seen: set[tuple[str, str]]
) -> list[str]:
    """What differs from the definition, as ``kind: path: what`` (allowlist applied)."""
    found = []
    for kind, problem in check_emitted(obj, fixtures):
        key = (kind.split(" -> ")[-1], re.sub(r"\[\d+\]", "[]", problem.path))
        if key in ALLOWED:
            allowed_seen.add(key)
        else:
            found.append(f"{kind}: {problem}")
    return found


@pytest.fixture(scope="module")
def fixtures() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(fixtures_path().read_text())["resources"]
    return resources


async def test_every_emitted_object_and_event_matches_the_pinned_definition(
    journey: Journey, fixtures: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    conformance = _module("test_conformance")
    served: list[dict[str, Any]] = []  # what the conformance scenario fetched itself

    async def conformance_scenario(j: Journey) -> None:
        served.extend(obj for _, obj in await conformance.collect(j, fixtures))

    scenarios: dict[str, Callable[[Journey], Awaitable[Any]]] = {
        **journeys(),
        "conformance": conformance_scenario,
    }
    assert len(scenarios) > 15
    checked, failing = 0, 0
    report: set[str] = set()
    allowed_seen: set[tuple[str, str]] = set()
    for scenario in scenarios.values():
        assert (await journey.http.post("/_sandbox/reset")).status_code == 200
        await scenario(journey)
        for obj in [*await emitted(journey), *served]:
            found = problems(obj, fixtures, allowed_seen)
            checked += 1 + (obj.get("object") == "event")
            failing += bool(found)
            report.update(re.sub(r"\[\d+\]", "[]", line) for line in found)
        served.clear()
    with capsys.disabled():
        print(f"\nAPI {API_VERSION}: checked {checked} objects, {failing} failing")
    assert failing == 0, "\n".join(sorted(report))
    # The allowlist holds nothing that no longer happens.
    assert set(ALLOWED) <= allowed_seen, set(ALLOWED) - allowed_seen


@pytest.mark.unit
def test_the_checker_catches_type_null_enum_extra_and_missing(
    fixtures: dict[str, Any],
) -> None:
    price = {
        "id": "price_1",
        "object": "price",
        "active": "yes",
        "billing_scheme": "per_unit",
        "created": 1,
        "currency": "usd",
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": "prod_1",
        "recurring": None,
        "tax_behavior": "sometimes",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": None,
        "unit_amount_decimal": None,
        "plan": "gold",
    }
    del price["currency"]
    price["created"] = None
    found = {str(p) for p in check_object(price, fixtures)}
    assert found == {
        "active: string where bool is expected",
        "created: null where the definition does not allow it",
        "currency: missing",
        "plan: not in the definition",
        "tax_behavior: 'sometimes' is not one of ['exclusive', 'inclusive', 'unspecified']",
    }


@pytest.mark.unit
def test_a_removed_field_fails_even_where_the_older_fixture_has_it(
    fixtures: dict[str, Any],
) -> None:
    assert "subscription" in fixtures["invoice"]  # the 2026-07-29 fixture is stale here
    invoice = {**fixtures["invoice"], "parent": None}
    found = {str(p) for p in check_object(invoice, fixtures)}
    assert "subscription: not in the definition" in found


@pytest.mark.unit
def test_nested_lines_are_checked_too(fixtures: dict[str, Any]) -> None:
    line = line_item(
        id="il_1",
        invoice="in_1",
        amount=900,
        currency="usd",
        description="1 x Solo",
        period_start=1,
        period_end=2,
        price_id="price_1",
        product="prod_1",
        quantity=1,
        subscription="sub_1",
        subscription_item="si_1",
        proration=False,
    )
    built = invoice(
        id="in_1",
        created=1,
        customer={"id": "cus_1", "email": None, "name": None, "phone": None},
        subscription="sub_1",
        subscription_metadata={},
        currency="usd",
        lines=[line],
        billing_reason="subscription_cycle",
        period_start=1,
        period_end=2,
        default_payment_method=None,
    )
    assert check_object(built, fixtures) == []
    line["pricing"]["price_details"]["product"] = None
    built["parent"]["type"] = "subscription"
    found = {str(p) for p in check_object(built, fixtures)}
    assert found == {
        "lines.data[0].pricing.price_details.product: null where the definition does not allow it",
        "parent.type: 'subscription' is not one of ['quote_details', 'subscription_details']",
    }
