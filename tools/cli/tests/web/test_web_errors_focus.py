"""Issue 18, one error per failure and focus: an expired session says so once, with
"Sign in again"; focus goes back to the control that opened a dialog (also after the
button was busy); toasts show above a modal dialog's overlay; cancelling while a
downgrade is scheduled says it drops it. API answers are stubbed in the browser."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Shot = Callable[[Page], Path]


def _sub(**overrides: Any) -> dict[str, Any]:
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
        "has_payment_method": True,
        "trial_ends_in_days": None,
    }
    return body | overrides


def _serve(page: Page, body: dict[str, Any], *, delete_status: int = 200) -> None:
    def fulfil(route: Route) -> None:
        if route.request.method == "GET":
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))
        elif route.request.method == "DELETE":
            error = {"error": {"code": "unauthorized", "message": "token expired"}}
            route.fulfill(
                status=delete_status, content_type="application/json", body=json.dumps(error)
            )
        else:
            route.continue_()

    page.route("**/api/billing/subscription", fulfil)


def test_an_expired_session_in_a_dialog_is_one_error_with_sign_in_again(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    _serve(page, _sub(), delete_status=401)
    page.goto("/settings/billing")
    page.get_by_role("button", name="Cancel subscription").click()
    dialog = page.get_by_role("dialog", name="Cancel subscription?")
    dialog.get_by_label("Type CANCEL to confirm").fill("CANCEL")
    dialog.get_by_role("button", name="Cancel subscription").click()
    error = dialog.locator(".dialog-error")
    expect(error).to_contain_text("Your session has expired")
    expect(error.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", "/dev/sign-in?next=%2Fsettings%2Fbilling"
    )
    page.wait_for_timeout(500)
    expect(page.locator(".toast")).to_have_count(0)  # not a second time in a toast
    screenshot(page)


def test_focus_goes_back_to_the_plan_button_after_its_preview_dialog(
    page: Page, sign_in: Callable[..., str]
) -> None:
    sign_in(page, "owner")
    _serve(page, _sub(plan_type="solo"))
    preview = {
        "proration_amount": 2486,
        "next_invoice_amount": 2900,
        "currency": "usd",
        "proration_date": 1798000000,
    }
    page.route(
        "**/api/billing/proration",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(preview)
        ),
    )
    page.goto("/pricing")
    opener = page.locator("article[data-plan='team']").get_by_role("button", name="Upgrade")
    opener.click()  # the button is busy (disabled) while the preview loads
    dialog = page.get_by_role("dialog", name="Upgrade to Team")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()


def test_a_toast_shows_above_a_modal_dialog(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    _serve(page, _sub())
    page.goto("/settings/billing")
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_role("dialog", name="Cancel subscription?")).to_be_visible()
    page.evaluate("import('/js/toast.js').then((m) => m.toastInfo('Above the overlay'))")
    toast = page.locator(".toast", has_text="Above the overlay")
    expect(toast).to_be_visible()
    # drawn above the overlay and usable: Playwright clicks only what receives the click
    toast.get_by_role("button", name="Dismiss notification").click(timeout=5_000)
    expect(toast).to_have_count(0)
    screenshot(page)


def test_cancelling_while_a_downgrade_is_scheduled_says_it_drops_it(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    _serve(page, _sub(pending_plan={"plan": "solo", "effective_at": "2027-01-15T12:00:00Z"}))
    page.goto("/settings/billing")
    page.get_by_role("button", name="Cancel subscription").click()
    dialog = page.get_by_role("dialog", name="Cancel subscription?")
    expect(dialog.get_by_test_id("drops-pending")).to_have_text(
        "You have a change to Solo scheduled for Jan 15, 2027. Cancelling drops that change: "
        "your subscription ends instead."
    )
    screenshot(page)
