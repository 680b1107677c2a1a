"""Issue 18: /pricing shows where the tenant stands (status chip, trial days left, a
past-due warning with a link) and never offers a trial to a tenant who has had one
(``GET /api/billing/checkout/trial``). The subscription is stubbed in the browser."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Shot = Callable[[Page], Path]


def _json(body: object) -> Callable[[Route], None]:
    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    return fulfil


def _sub(**overrides: Any) -> dict[str, Any]:
    body = {
        "tenant_id": "t",
        "plan_type": "free",
        "status": "active",
        "status_label": "Active",
        "cancel_at_period_end": False,
        "current_period_end": None,
        "trial_end": None,
        "payment_failed": None,
        "pending_plan": None,
        "has_payment_method": False,
        "trial_ends_in_days": None,
    }
    return body | overrides


def test_a_tenant_who_had_a_trial_is_offered_none(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    page.route("**/api/billing/subscription", _json(_sub(status="canceled")))
    page.route("**/api/billing/checkout/trial", _json({"trial_available": False}))
    page.goto("/pricing")
    team = page.locator("article[data-plan='team']")
    expect(team.get_by_role("button", name="Upgrade")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("free trial")
    expect(page.get_by_role("button", name="Start trial")).to_have_count(0)
    screenshot(page)


def test_a_new_tenant_is_offered_the_trial_by_the_real_api(
    page: Page, sign_in: Callable[..., str]
) -> None:
    sign_in(page, "owner")
    page.goto("/pricing")
    team = page.locator("article[data-plan='team']")
    expect(team.get_by_role("button", name="Start trial")).to_be_visible()
    expect(team).to_contain_text("-day free trial")


def test_pricing_shows_the_trial_left_and_a_past_due_warning_with_a_link(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    trial = _sub(
        plan_type="team",
        status="trialing",
        trial_end="2027-01-10T12:00:00Z",
        current_period_end="2027-01-10T12:00:00Z",
        has_payment_method=True,
        trial_ends_in_days=9,
    )
    page.route("**/api/billing/subscription", _json(trial))
    page.goto("/pricing")
    state = page.get_by_test_id("pricing-state")
    expect(state.get_by_test_id("pricing-status")).to_have_text("Trial")
    expect(state.get_by_test_id("trial-left")).to_have_text("9 days left in your trial")
    expect(page.get_by_role("main")).not_to_contain_text("free trial")

    failed = {
        "amount_due": 2900,
        "currency": "usd",
        "hosted_invoice_url": "https://invoice.example/in_1",
        "next_payment_attempt": None,
        "invoice_id": "in_1",
        "since": "2026-12-15T12:00:00Z",
        "attempt_count": 4,
        "requires_action": False,
    }
    past_due = _sub(
        plan_type="team",
        status="past_due",
        current_period_end="2027-01-15T12:00:00Z",
        payment_failed=failed,
        has_payment_method=True,
    )
    page.unroute("**/api/billing/subscription")
    page.route("**/api/billing/subscription", _json(past_due))
    page.reload()
    expect(page.get_by_test_id("pricing-status")).to_have_text("Past due")
    warning = page.get_by_test_id("pricing-warning")
    expect(warning).to_contain_text("Payment failed")
    expect(warning.get_by_role("link", name="Fix your payment")).to_have_attribute(
        "href", "/settings/billing"
    )
    expect(page.get_by_role("main")).not_to_contain_text("Renews on")
    screenshot(page)
