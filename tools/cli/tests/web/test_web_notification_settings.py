"""/settings/billing, "Email notifications" (issue 22): every kind of billing email with
what it says; the owner switches the reminders off and on by keyboard (saved through the
notifications API of ``billing dev``, kept after a reload), the critical kinds say
"Always sent", a member of the same account sees the switches read-only; a failed save
puts the switch back, says why in plain words and keeps focus; a failed load offers to
try again. Screenshots in ``.artifacts/screenshots``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from billing_cli.testing.dev_server import DevServer
from playwright.sync_api import Browser, Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Shot = Callable[[Page], Path]
SCREENSHOTS = Path(__file__).resolve().parents[4] / ".artifacts" / "screenshots"
KINDS = {
    "Payment failed": True,
    "Payment recovered": True,
    "Cancellation scheduled": True,
    "Subscription ended": True,
    "Trial ending": True,
    "Trial extended": True,
    "Plan changed": True,
    "Upcoming renewal": False,
    "Card expiring": False,
}
"""Each kind's label, and whether it is critical (always sent)."""


def _api_preferences(billing_dev: DevServer, tenant: str) -> dict[str, bool]:
    token = httpx.post(
        f"{billing_dev.base}/dev/token", json={"tenant_id": tenant, "role": "member"}, timeout=10
    ).json()["token"]
    answer = httpx.get(
        f"{billing_dev.base}/api/notifications/preferences",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    preferences: dict[str, bool] = answer.json()["preferences"]
    return preferences


def test_the_owner_switches_reminders_by_keyboard_and_a_member_reads_them(
    page: Page,
    browser: Browser,
    billing_dev: DevServer,
    sign_in: Callable[..., str],
    screenshot: Shot,
) -> None:
    tenant = sign_in(page, "owner")
    page.goto("/settings/billing")
    section = page.get_by_role("region", name="Email notifications")
    rows = section.get_by_test_id("notification-kind")
    expect(rows).to_have_count(len(KINDS))
    for index, (label, critical) in enumerate(KINDS.items()):
        row = rows.nth(index)
        expect(row).to_contain_text(label)
        if critical:
            expect(row.get_by_test_id("always-sent")).to_have_text("Always sent")
            expect(row.get_by_role("switch")).to_have_count(0)
        else:
            expect(row.get_by_role("switch", name=label)).to_be_checked()
    renewal = section.get_by_role("switch", name="Upcoming renewal")
    expect(renewal).to_have_accessible_description(
        "Before a yearly plan renews: the date and the amount."
    )

    renewal.focus()
    page.keyboard.press("Space")
    expect(page.locator(".toast-success")).to_contain_text("Upcoming renewal emails are off.")
    expect(renewal).not_to_be_checked()
    expect(renewal).to_be_focused()
    expect(section.get_by_role("status")).to_have_text("Upcoming renewal emails are off.")
    assert _api_preferences(billing_dev, tenant) == {
        "card_expiring": True,
        "upcoming_renewal": False,
    }
    card = section.get_by_role("switch", name="Card expiring")
    page.keyboard.press("Tab")
    expect(card).to_be_focused()
    page.keyboard.press("Space")
    expect(card).not_to_be_checked()
    expect(page.locator(".toast-success", has_text="Card expiring emails are off.")).to_be_visible()
    page.keyboard.press("Space")
    expect(card).to_be_checked()
    expect(section.get_by_role("status")).to_have_text("Card expiring emails are on.")

    page.reload()
    expect(section.get_by_role("switch", name="Upcoming renewal")).not_to_be_checked()
    expect(section.get_by_role("switch", name="Card expiring")).to_be_checked()
    section.scroll_into_view_if_needed()
    screenshot(page)

    context = browser.new_context(base_url=billing_dev.base, viewport={"width": 390, "height": 844})
    try:
        member = context.new_page()
        sign_in(member, "member", tenant=tenant)
        member.goto("/settings/billing")
        theirs = member.get_by_role("region", name="Email notifications")
        expect(theirs.get_by_role("switch", name="Upcoming renewal")).to_be_disabled()
        expect(theirs.get_by_role("switch", name="Upcoming renewal")).not_to_be_checked()
        expect(theirs.get_by_role("switch", name="Card expiring")).to_be_disabled()
        expect(theirs.get_by_test_id("notifications-owner-only")).to_have_text(
            "Only the account owner can change which emails are sent."
        )
        width = member.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width  # no sideways scroll on a phone
        theirs.scroll_into_view_if_needed()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        member.screenshot(
            path=str(SCREENSHOTS / "notification-settings-member-phone.png"), full_page=True
        )
    finally:
        context.close()


def _error(status: int, code: str, message: str) -> Callable[[Route], None]:
    body = json.dumps({"error": {"code": code, "message": message}})

    def fulfil(route: Route) -> None:
        if route.request.method == "PUT":
            route.fulfill(status=status, content_type="application/json", body=body)
        else:
            route.continue_()

    return fulfil


def test_a_failed_save_puts_the_switch_back_and_says_why(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    page.route(
        "**/api/notifications/preferences",
        _error(503, "service_unavailable", "database pool exhausted"),
    )
    page.goto("/settings/billing")
    section = page.get_by_role("region", name="Email notifications")
    renewal = section.get_by_role("switch", name="Upcoming renewal")
    renewal.focus()
    page.keyboard.press("Space")
    toast = page.locator(".toast-error p")
    expect(toast).to_have_text(
        "We could not save this: billing is temporarily unavailable. Try again in a moment."
    )
    expect(renewal).to_be_checked()  # back as it was
    expect(renewal).to_be_focused()
    expect(section.locator(".switch-state").first).to_have_text("On")
    screenshot(page)

    page.unroute("**/api/notifications/preferences")
    page.route(
        "**/api/notifications/preferences",
        _error(401, "unauthorized", "token expired"),
    )
    page.keyboard.press("Space")
    expect(section.get_by_test_id("session-expired")).to_contain_text("Your session has expired")


def test_a_failed_load_offers_to_try_again(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "member")
    page.route(
        "**/api/notifications/preferences", lambda route: route.abort("internetdisconnected")
    )
    page.goto("/settings/billing")
    section = page.get_by_role("region", name="Email notifications")
    expect(section.get_by_role("alert")).to_contain_text(
        "Could not reach the server. Check your connection and try again."
    )
    screenshot(page)
    page.unroute("**/api/notifications/preferences")
    section.get_by_role("button", name="Try again").click()
    expect(section.get_by_role("switch", name="Card expiring")).to_be_disabled()
    expect(section.get_by_test_id("notification-kind")).to_have_count(len(KINDS))
