"""The operators' page: a parked webhook event, fixed in Stripe, replayed by clicking."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from billing_cli.testing.dev_server import DevServer
from playwright.sync_api import Locator, Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _show_until(page: Page, row: Locator, attempts: int = 30) -> None:
    """Press "Show events" until ``row`` is listed (webhooks arrive asynchronously)."""
    for _ in range(attempts):
        page.get_by_role("button", name="Show events").click()
        expect(page.locator("#events")).not_to_have_attribute("aria-busy", "true")
        if row.count():
            return
        page.wait_for_timeout(1000)
    expect(row).to_be_visible()


def test_operator_replays_a_parked_event_once_the_customer_names_its_tenant(
    page: Page,
    sign_in: Callable[..., str],
    billing_dev: DevServer,
    screenshot: Callable[[Page], Path],
) -> None:
    customer = billing_dev.stripe_post("/customers", {"email": "stray@example.com"})["id"]
    sign_in(page, "operator", next_path="/admin/webhooks")
    expect(page).to_have_url("/admin/webhooks")
    page.get_by_label("Status").select_option("parked")
    page.get_by_label("Event type").fill("customer.created")
    row = page.locator("#events tbody tr", has_text=customer)
    _show_until(page, row)
    expect(row).to_contain_text("no tenant known for customer")
    expect(row.locator(".badge")).to_have_text("parked")

    tenant = f"tenant_web_{uuid.uuid4().hex[:10]}"
    billing_dev.stripe_post(f"/customers/{customer}", {"metadata[tenant_id]": tenant})
    row.get_by_role("button", name="Replay").click()
    expect(page.locator(".toast-success")).to_contain_text("Replay succeeded")
    event_id = page.locator("#events tbody tr", has_text="pending").first.get_attribute(
        "data-event-id"
    )
    assert event_id

    page.get_by_label("Status").select_option("processed")
    replayed = page.locator(f"#events tbody tr[data-event-id='{event_id}']")
    _show_until(page, replayed)
    expect(replayed).to_contain_text(tenant)
    expect(replayed.get_by_role("button", name="Replay")).to_have_count(0)
    screenshot(page)


def test_owner_without_the_operator_scope_gets_a_readable_refusal(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path]
) -> None:
    sign_in(page, "owner")
    page.goto("/admin/webhooks")
    expect(page.get_by_role("alert")).to_contain_text("for operators (billing:admin) only")
    expect(page.get_by_text("needs an operator token")).to_be_visible()
    screenshot(page)
