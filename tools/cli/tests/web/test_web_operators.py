"""The operators' page: a parked webhook event, fixed in Stripe, replayed by clicking."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from billing_cli.testing.dev_server import DevServer
from playwright.sync_api import Locator, Page, Route, expect

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
    event_id = row.get_attribute("data-event-id")
    assert event_id
    row.get_by_role("button", name="Replay").click()
    # queued is not done: the page says so, then follows the event in place
    expect(page.locator(".toast-info")).to_contain_text("Replay queued")
    expect(page.locator(".toast-success")).to_have_count(0)
    replayed = page.locator(f"#events tbody tr[data-event-id='{event_id}']")
    expect(replayed.locator(".badge")).to_have_text("processed", timeout=60_000)
    expect(page.locator(".toast-success")).to_contain_text(f"Replayed {event_id}: processed")
    expect(replayed).to_contain_text(tenant)
    expect(replayed.get_by_role("button", name="Replay")).to_have_count(0)
    screenshot(page)


def test_a_replay_that_fails_again_says_so_in_place(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path]
) -> None:
    """The replay is queued; the worker fails it again: the row and a toast say so (the
    event's answers are stubbed: a failure on purpose takes the worker minutes)."""
    sign_in(page, "operator", next_path="/admin/webhooks")
    event: dict[str, object] = {
        "event_id": "evt_stub_fails_again",
        "event_type": "invoice.paid",
        "tenant_id": None,
        "status": "failed",
        "note": None,
        "error_message": "no tenant known",
        "last_error": "no tenant known",
        "last_error_class": "permanent",
        "retry_count": 3,
        "next_attempt_at": None,
        "stripe_created_at": "2026-12-01T12:00:00Z",
        "received_at": "2026-12-01T12:00:00Z",
        "processed_at": None,
    }
    reads = iter([event | {"status": "pending"}, event | {"error_message": "still no tenant"}])

    def serve(route: Route) -> None:
        url = route.request.url
        if url.endswith("/replay"):
            body = event | {"status": "pending"}
        elif "/api/webhooks/events/" in url:
            body = next(reads, event | {"error_message": "still no tenant"})
        else:
            body = {"events": [event], "next_cursor": None}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/webhooks/events**", serve)
    page.reload()
    row = page.locator("#events tbody tr[data-event-id='evt_stub_fails_again']")
    row.get_by_role("button", name="Replay").click()
    progress = page.get_by_test_id("replay-progress")
    expect(progress).to_contain_text("Replay queued")
    expect(page.locator(".toast-error")).to_contain_text("failed again: still no tenant")
    expect(row.locator(".badge")).to_have_text("failed")
    expect(row).to_contain_text("still no tenant")
    expect(row.get_by_role("button", name="Replay")).to_be_visible()
    screenshot(page)


def test_on_a_phone_the_table_scrolls_in_its_box_not_the_page(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path]
) -> None:
    """Both tables of the page (events, and trial extensions once any trial was extended:
    in a full run test_web_trials' are listed) scroll in their boxes; measured once both
    have loaded. The extensions are stubbed so the table is there whatever ran before."""
    tenant = "tenant_web_" + "a" * 40
    extension: dict[str, object] = {
        "id": 1,
        "tenant_id": tenant,
        "stripe_subscription_id": "sub_" + "b" * 24,
        "operator_sub": "operator_" + "c" * 30,
        "reason": "Evaluating SSO with their security team",
        "extend_days": 7,
        "previous_trial_end": "2026-12-15T12:00:00Z",
        "new_trial_end": "2026-12-22T12:00:00Z",
        "status": "applied",
        "created_at": "2026-12-01T12:00:00Z",
    }
    page.route(
        "**/api/billing/admin/trial-extensions**",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps([extension])
        ),
    )
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, "operator", next_path="/admin/webhooks")
    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Show events").click()
    expect(page.locator("#events")).not_to_have_attribute("aria-busy", "true")
    page.locator("#events table, #events .empty").first.wait_for()
    expect(page.get_by_test_id("trial-extensions")).to_contain_text(tenant)
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert wide is False, "the page scrolls sideways"
    screenshot(page)


def test_owner_without_the_operator_scope_gets_a_readable_refusal(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path]
) -> None:
    sign_in(page, "owner")
    page.goto("/admin/webhooks")
    expect(page.get_by_role("alert")).to_contain_text("This page is for operators only.")
    expect(page.get_by_text("needs an operator token")).to_be_visible()
    screenshot(page)
