"""Every subscription state the API can answer, rendered (the API answer is stubbed in the
browser, so states that take weeks in Stripe are shown at once)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LABELS = {
    "active": "Active",
    "trialing": "Trial",
    "past_due": "Past due",
    "canceled": "Canceled",
    "incomplete": "Incomplete",
    "incomplete_expired": "Expired",
    "unpaid": "Unpaid",
    "paused": "Paused",
}
TONES = {
    "active": "success",
    "trialing": "info",
    "past_due": "warning",
    "canceled": "neutral",
    "incomplete": "warning",
    "incomplete_expired": "neutral",
    "unpaid": "danger",
    "paused": "paused",
}


def _subscription(**overrides: Any) -> dict[str, Any]:
    body = {
        "tenant_id": "t",
        "plan_type": "team",
        "status": "active",
        "status_label": "Active",
        "cancel_at_period_end": False,
        "current_period_end": "2027-01-15T12:00:00Z",
        "trial_end": None,
        "payment_failed": None,
        "pending_plan": None,
    }
    return body | overrides


def _serve(page: Page, body: dict[str, Any]) -> None:
    def fulfil(route: Route) -> None:
        if route.request.method == "GET":
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.unroute("**/api/billing/subscription")
    page.route("**/api/billing/subscription", fulfil)


def test_every_status_has_its_badge(page: Page, sign_in: Callable[..., str]) -> None:
    sign_in(page, "owner")
    for status, label in LABELS.items():
        _serve(page, _subscription(status=status, status_label=label))
        page.goto("/settings/billing")
        badge = page.locator(f".badge[data-status='{status}']")
        expect(badge).to_have_text(label)
        expect(badge).to_have_class(re.compile(rf"\bstatus-{status}\b.*\btone-{TONES[status]}\b"))


def test_scheduled_cancel_pending_downgrade_and_failure_in_another_currency(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path]
) -> None:
    sign_in(page, "owner")
    _serve(
        page,
        _subscription(
            status="past_due",
            status_label="Past Due",
            cancel_at_period_end=True,
            payment_failed={
                "amount_due": 2900,
                "currency": "eur",
                "hosted_invoice_url": "https://invoice.example/in_1",
                "next_payment_attempt": None,
            },
            pending_plan={"plan": "solo", "effective_at": "2027-01-15T12:00:00Z"},
        ),
    )
    page.goto("/settings/billing")
    # past due: no "Renews on", and no "Access until" either: the payment comes first
    expect(page.get_by_test_id("date-line")).to_have_count(0)
    expect(page.get_by_test_id("pending-plan")).to_contain_text("changes to Solo on Jan 15, 2027")
    banner = page.get_by_test_id("banner")
    expect(banner).to_contain_text("We could not collect €29 for your Team plan")
    expect(banner).to_contain_text("We will not try again automatically.")
    expect(page.get_by_role("button", name="Resume subscription")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel subscription")).to_have_count(0)
    screenshot(page)


def test_zero_decimal_currency_is_not_divided(page: Page, sign_in: Callable[..., str]) -> None:
    sign_in(page, "owner")
    failed = {
        "amount_due": 500,
        "currency": "jpy",
        "hosted_invoice_url": None,
        "next_payment_attempt": "2027-01-18T12:00:00Z",
    }
    _serve(page, _subscription(status="past_due", payment_failed=failed))
    page.goto("/settings/billing")
    banner = page.get_by_test_id("banner")
    expect(banner).to_contain_text("We could not collect ¥500 for your Team plan")
    expect(banner).to_contain_text("We will try again automatically on Jan 18, 2027.")
    expect(banner.get_by_role("link", name="View invoice")).to_have_count(0)


def test_dialog_keeps_keyboard_focus_inside_and_escape_closes_it(
    page: Page, sign_in: Callable[..., str]
) -> None:
    sign_in(page, "owner")
    _serve(page, _subscription())
    page.goto("/settings/billing")
    opener = page.get_by_role("button", name="Cancel subscription")
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cancel subscription?")
    expect(dialog.get_by_label("Type CANCEL to confirm")).to_be_focused()
    inside = "document.activeElement && document.activeElement.closest('dialog') !== null"
    for key in ("Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"):
        page.keyboard.press(key)
        assert page.evaluate(inside), f"focus left the dialog after {key}"
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()


def test_downgrade_to_free_from_pricing_opens_the_cancel_dialog(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path]
) -> None:
    sign_in(page, "owner")
    _serve(page, _subscription())
    page.goto("/pricing")
    expect(page.locator("article[data-plan='team'] .badge-current")).to_have_text("Current plan")
    team = page.locator("article[data-plan='team']")
    expect(team.get_by_role("button", name="Manage subscription")).to_be_visible()
    expect(page.locator("article[data-plan='enterprise']").get_by_role("button")).to_have_text(
        "Upgrade"
    )
    page.locator("article[data-plan='free']").get_by_role("link", name="Downgrade").click()
    expect(page).to_have_url("/settings/billing")
    expect(page.get_by_role("dialog", name="Cancel subscription?")).to_be_visible()
    screenshot(page)
