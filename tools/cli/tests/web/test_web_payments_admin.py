"""The operators' failed-payment queue (/admin/payments): a renewal fails on a declining
card, the operator sends a reminder, retries with the card still declining (the row
stays and shows Stripe's new attempt), then once a good card is the default retries
again and the tenant leaves the queue when Stripe's webhook arrives. On a phone the
page does not scroll sideways."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from billing_cli.testing.dev_server import DevServer
from playwright.sync_api import Locator, Page, expect

SCREENSHOTS = Path(__file__).resolve().parents[4] / ".artifacts" / "screenshots"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NINETY_NINE = re.compile(r"\$99(\.00)?")  # format.js may drop zero cents
DECLINING = "4000000000000341"
GOOD = "4242424242424242"


def _sideways_overflow(page: Page) -> int:
    found = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return int(found)


def _shot(page: Page, name: str) -> None:
    """A screenshot in the middle of a test, beside the final ones (test artefacts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _show_until(page: Page, row: Locator, attempts: int = 30) -> None:
    """Press "Show queue" until ``row`` is listed (webhooks arrive asynchronously)."""
    for _ in range(attempts):
        page.get_by_role("button", name="Show queue").click()
        expect(page.locator("#queue")).not_to_have_attribute("aria-busy", "true")
        if row.count():
            return
        page.wait_for_timeout(1000)
    expect(row).to_be_visible()


def test_operator_reminds_retries_and_clears_a_failed_payment(
    page: Page,
    sign_in: Callable[..., str],
    subscribe: Callable[..., None],
    billing_dev: DevServer,
    screenshot: Callable[[Page], Path],
) -> None:
    tenant = sign_in(page, "owner")
    subscribe(page, "enterprise")
    billing_dev.set_card(billing_dev.customer_of(tenant), DECLINING)
    billing_dev.renew(billing_dev.customer_of(tenant))

    sign_in(page, "operator", next_path="/admin/payments")
    page.goto("/admin/payments")
    expect(page.get_by_role("heading", name="Failed payments")).to_be_visible()
    row = page.locator(f"#queue tbody tr[data-tenant-id='{tenant}']")
    _show_until(page, row)
    expect(row.get_by_test_id("amount")).to_have_text(NINETY_NINE)
    expect(row.locator(".badge")).to_have_text("Past Due")
    _shot(page, "payments_admin_queue")
    page.set_viewport_size(
        {"width": 390, "height": 844}
    )  # a phone: the table scrolls, not the page
    expect(row).to_be_visible()
    assert _sideways_overflow(page) <= 0
    _shot(page, "payments_admin_queue_phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    row.get_by_role("button", name="Send reminder").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("payment-failed email goes out now")
    dialog.get_by_role("button", name="Send reminder").click()
    expect(page.locator(".toast-success").last).to_contain_text(f"Reminder requested for {tenant}")
    expect(row.get_by_test_id("last-action")).to_contain_text("remind: requested")

    row.get_by_role("button", name="Retry payment").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(NINETY_NINE)
    dialog.get_by_label("Reason").fill("card still declining?")
    _shot(page, "payments_admin_retry_dialog")
    dialog.get_by_role("button", name="Retry payment").click()
    expect(page.locator(".toast-error").first).to_contain_text("Stripe declined the card")
    expect(page.locator(".toast-error").last).to_contain_text("Stripe recorded the failed attempt")
    row = page.locator(f"#queue tbody tr[data-tenant-id='{tenant}']")
    expect(row.get_by_test_id("last-action")).to_contain_text("retry payment: stripe declined")

    billing_dev.set_card(billing_dev.customer_of(tenant), GOOD)
    row.get_by_role("button", name="Retry payment").click()
    page.get_by_role("dialog").get_by_role("button", name="Retry payment").click()
    expect(page.locator(".toast-info").last).to_contain_text("waiting for Stripe")
    expect(page.locator(".toast-success").last).to_contain_text("Payment recovered")
    expect(row).to_have_count(0)
    expect(
        page.get_by_role("status").filter(has_text="No tenant has a failed payment")
    ).to_have_count(1 if not page.locator("#queue tbody tr").count() else 0)
    screenshot(page)


def test_the_queue_fits_a_phone_without_sideways_page_scroll(
    page: Page,
    sign_in: Callable[..., str],
    screenshot: Callable[[Page], Path],
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "operator", next_path="/admin/payments")
    page.goto("/admin/payments")
    expect(page.locator("#queue")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#queue table, #queue .empty")).to_have_count(1)
    assert _sideways_overflow(page) <= 0
    screenshot(page)


def test_an_owner_gets_a_readable_refusal(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path]
) -> None:
    sign_in(page, "owner")
    page.goto("/admin/payments")
    expect(page.get_by_role("alert")).to_contain_text("for operators")
    expect(page.get_by_text("needs an operator token")).to_be_visible()
    screenshot(page)
