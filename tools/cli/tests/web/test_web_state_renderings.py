"""Each rendering of the presentation model (web/js/subscription-state.js) once in the
browser: the API answer is stubbed, so states that take weeks in Stripe show at once.
Every state keeps a screenshot
(``.artifacts/screenshots/test_each_state_renders_once[<name>].png``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PERIOD_END = "2027-01-15T12:00:00Z"
FAILED = {
    "amount_due": 2900,
    "currency": "usd",
    "hosted_invoice_url": "https://invoice.example/in_1",
    "next_payment_attempt": "2026-12-18T12:00:00Z",
    "since": "2026-12-15T12:00:00Z",
    "invoice_id": "in_1",
}


def _sub(**overrides: Any) -> dict[str, Any]:
    body = {
        "tenant_id": "t",
        "plan_type": "team",
        "status": "active",
        "status_label": "Active",
        "cancel_at_period_end": False,
        "current_period_end": PERIOD_END,
        "trial_end": None,
        "payment_failed": None,
        "pending_plan": None,
    }
    return body | overrides


# name: (body, date line or None, banner kind or None, words the page must show)
STATES: dict[str, tuple[dict[str, Any], str | None, str | None, list[str]]] = {
    "active": (_sub(), "Renews on Jan 15, 2027", None, ["Cancel subscription"]),
    "trial": (
        _sub(status="trialing", trial_end="2027-01-10T12:00:00Z"),
        "Trial ends on Jan 10, 2027",
        None,
        [],
    ),
    "trial-without-card": (
        _sub(status="trialing", trial_end="2027-01-10T12:00:00Z", has_payment_method=False),
        "Trial ends on Jan 10, 2027",
        "trial_without_card",
        ["Add a card"],
    ),
    "cancel-scheduled": (
        _sub(cancel_at_period_end=True),
        "Access until Jan 15, 2027",
        None,
        ["Resume subscription"],
    ),
    "downgrade-scheduled": (
        _sub(pending_plan={"plan": "solo", "effective_at": PERIOD_END}),
        "Changes to Solo on Jan 15, 2027",
        None,
        ["Your plan changes to Solo on Jan 15, 2027"],
    ),
    "past-due": (
        _sub(status="past_due", payment_failed=FAILED),
        "Payment overdue since Dec 15, 2026",
        "payment_failed",
        ["We could not collect $29", "Pay now", "Update card", "Next automatic attempt"],
    ),
    "past-due-with-downgrade": (
        _sub(
            status="past_due",
            payment_failed=FAILED,
            pending_plan={"plan": "solo", "effective_at": PERIOD_END},
        ),
        "Payment overdue since Dec 15, 2026",
        "payment_failed",
        ["Settle the open payment before changing your plan."],
    ),
    "requires-action": (
        _sub(status="incomplete", payment_failed=FAILED | {"requires_action": True}),
        "Payment overdue since Dec 15, 2026",
        "requires_action",
        ["Confirm your payment", "Confirm payment"],
    ),
    "unpaid": (
        _sub(status="unpaid", payment_failed=FAILED | {"next_payment_attempt": None}),
        "Payment overdue since Dec 15, 2026",
        "payment_failed",
        ["We will not try again automatically"],
    ),
    "paused": (
        _sub(status="paused", has_payment_method=False),
        None,
        "paused",
        ["Your Team subscription is paused", "Add a card"],
    ),
    "trial-ending-without-card": (
        _sub(
            status="trialing",
            trial_end="2027-01-10T12:00:00Z",
            has_payment_method=False,
            trial_ends_in_days=2,
        ),
        "Trial ends on Jan 10, 2027",
        "trial_ending",
        ["Your trial ends in 2 days", "Add a card to keep Team"],
    ),
    "canceled-after-failed-payment": (
        _sub(
            plan_type="free",
            status="canceled",
            ended={"reason": "payment_failed", "plan": "team", "at": "2027-01-02T00:00:00Z"},
        ),
        None,
        "ended_after_failed_payment",
        ["Your Team subscription was canceled", "Choose a plan"],
    ),
    "checkout-expired": (
        _sub(plan_type="free", status="incomplete_expired"),
        None,
        "checkout_not_completed",
        ["Your subscription did not start"],
    ),
    "free": (_sub(plan_type="free", current_period_end=None), None, None, ["See plans"]),
}


def _serve(page: Page, body: dict[str, Any]) -> None:
    def fulfil(route: Route) -> None:
        if route.request.method == "GET":
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.unroute("**/api/billing/subscription")
    page.route("**/api/billing/subscription", fulfil)


@pytest.mark.parametrize("name", list(STATES))
def test_each_state_renders_once(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path], name: str
) -> None:
    body, date_line, banner, words = STATES[name]
    sign_in(page, "owner")
    _serve(page, body)
    page.goto("/settings/billing")
    page.locator(".subscription").wait_for()
    main = page.get_by_role("main")
    if date_line != "Renews on Jan 15, 2027":
        expect(main).not_to_contain_text("Renews on")
    if date_line is None:
        expect(page.get_by_test_id("date-line")).to_have_count(0)
    else:
        expect(page.get_by_test_id("date-line")).to_have_text(date_line)
    if banner is None:
        expect(page.get_by_test_id("banner")).to_have_count(0)
    else:
        expect(page.get_by_test_id("banner")).to_have_attribute("data-kind", banner)
    for text in words:
        expect(main).to_contain_text(text)
    screenshot(page)
