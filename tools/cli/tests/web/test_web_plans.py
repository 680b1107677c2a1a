"""Issue 19 in a real browser: the pricing page's monthly/yearly switch and comparison
table, the change dialog's "Now" / "At renewal" with its preview, and undoing a
scheduled change ("Keep <plan>"). Screenshots in .artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Shot = Callable[[Page], Path]
Subscribe = Callable[..., None]
SignIn = Callable[..., str]


def test_pricing_switches_to_yearly_and_compares_the_plans(
    page: Page, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "owner", next_path="/pricing")
    table = page.get_by_test_id("compare")
    expect(table.locator("caption")).to_have_text("Compare plans")
    expect(table.locator("tbody tr")).to_have_count(6)
    expect(table.locator("tr[data-row='sso'] td[data-plan='enterprise']")).to_contain_text("✓")
    expect(table.locator("tr[data-row='projects'] td[data-plan='enterprise']")).to_have_text(
        "Unlimited"
    )
    expect(table.locator("th[data-plan='free'] [data-testid='compare-current']")).to_be_visible()
    expect(table.locator("td[data-plan='team']").get_by_role("button")).to_have_text("Start trial")
    solo = page.locator("article[data-plan='solo']")
    expect(solo.locator(".amount")).to_have_text("$9")
    page.get_by_test_id("interval-switch").get_by_label("Yearly (save 17%)").check()
    expect(solo.locator(".amount")).to_have_text("$90")
    expect(solo.locator(".per")).to_have_text(" per year")
    expect(solo.get_by_test_id("saving")).to_have_text("Save 17% with yearly billing")

    solo.get_by_role("button", name="Upgrade").click()  # checkout, billed yearly
    expect(page).to_have_title("Sandbox Checkout")
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/settings*")
    expect(page.locator(".toast-success")).to_be_visible()
    page.goto("/pricing")
    expect(page.get_by_test_id("interval-switch").get_by_label("Yearly (save 17%)")).to_be_checked()
    expect(page.locator("article[data-plan='solo'] .amount")).to_have_text("$90")
    expect(page.get_by_test_id("compare").locator("th[data-plan='solo'] .badge")).to_have_text(
        "Current"
    )
    screenshot(page)


def test_change_dialog_offers_now_or_at_renewal_and_a_scheduled_change_can_be_undone(
    page: Page, sign_in: SignIn, subscribe: Subscribe, screenshot: Shot
) -> None:
    sign_in(page, "owner")
    subscribe(page, "solo")
    page.goto("/pricing")
    page.locator("article[data-plan='team']").get_by_role("button", name="Upgrade").click()
    dialog = page.get_by_role("dialog", name="Upgrade to Team")
    when = dialog.get_by_test_id("when")
    expect(when.get_by_label("Now")).to_be_checked()
    expect(dialog.get_by_test_id("effective")).to_have_text("Takes effect now.")
    dialog.get_by_label("At renewal", exact=False).check()
    expect(dialog.get_by_test_id("effective")).to_contain_text("at the end of the current period")
    expect(dialog.get_by_test_id("proration-amount")).to_have_text("$0")
    expect(dialog.get_by_test_id("next-invoice")).to_have_text("$29")
    screenshot(page)
    dialog.get_by_role("button", name="Upgrade to Team").click()
    expect(page.locator(".toast-success").last).to_contain_text("Plan change scheduled")

    solo = page.locator("article[data-plan='solo']")
    expect(page.locator("article[data-plan='team']").get_by_test_id("scheduled")).to_be_visible()
    expect(page.locator("article[data-plan='team']").get_by_role("button")).to_have_count(0)
    keep = solo.get_by_role("button", name="Keep Solo")
    keep.click()
    expect(page.locator(".toast-success").last).to_contain_text("Scheduled change undone")
    expect(page.locator("article[data-plan='team']").get_by_test_id("scheduled")).to_have_count(0)
    expect(page.locator("article[data-plan='team']").get_by_role("button")).to_have_text("Upgrade")
    screenshot(page)
