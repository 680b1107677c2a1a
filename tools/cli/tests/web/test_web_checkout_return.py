"""Issue 18: back from Checkout, the page shows the subscription once it is what was
bought, never the states Stripe passed through on the way: a 3-D Secure payment's
subscription is ``incomplete`` until the customer authenticates, and the projection
learns it is ``active`` a moment after the browser is back (the return page showed
"Incomplete" once, then "Active")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SignIn = Callable[..., str]
Shot = Callable[[Page], Path]
CARD_3DS = "4000002500003155"

# every status chip the page ever draws, in order (installed before the page's scripts)
RECORD_STATUSES = """
window.__statuses = [];
new MutationObserver(() => {
  for (const badge of document.querySelectorAll(".badge[data-status]")) {
    const seen = badge.dataset.status;
    if (window.__statuses[window.__statuses.length - 1] !== seen) window.__statuses.push(seen);
  }
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


def _statuses(page: Page) -> list[str]:
    seen: list[str] = page.evaluate("() => window.__statuses")
    return seen


def _subscription(status: str) -> dict[str, Any]:
    return {
        "tenant_id": "t",
        "plan_type": "team",
        "status": status,
        "status_label": status.title(),
        "cancel_at_period_end": False,
        "current_period_end": "2027-01-15T12:00:00Z",
        "trial_end": None,
        "payment_failed": None,
        "pending_plan": None,
        "has_payment_method": True,
    }


def test_a_lagging_projection_never_shows_incomplete_on_the_return(
    page: Page, sign_in: SignIn, screenshot: Shot
) -> None:
    """Stripe says the session is paid; the projection says ``incomplete`` for the first
    reads (its webhook has not arrived yet), then ``active``."""
    sign_in(page, "owner")
    page.add_init_script(RECORD_STATUSES)
    reads: list[str] = []

    def subscription(route: Route) -> None:
        status = "incomplete" if len(reads) < 3 else "active"
        reads.append(status)
        route.fulfill(
            status=200, content_type="application/json", body=json.dumps(_subscription(status))
        )

    def verified(route: Route) -> None:
        body = {
            "verified": True,
            "status": "complete",
            "payment_status": "paid",
            "plan": "team",
            "trial": False,
            "mode": "subscription",
        }
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/billing/subscription", subscription)
    page.route("**/api/billing/verify-session", verified)
    page.goto("/settings?success=true&session_id=cs_test_3ds")

    expect(page.locator(".badge[data-status='active']")).to_have_text("Active")
    expect(page.locator(".toast-success").last).to_contain_text("you are now on the Team plan")
    assert reads[:3] == ["incomplete"] * 3  # the lag happened
    assert _statuses(page) == ["active"]  # and was never shown
    expect(page.get_by_test_id("checkout-result")).to_have_count(0)
    screenshot(page)


def test_a_3ds_checkout_returns_to_active_without_a_detour(
    page: Page, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "owner")
    page.add_init_script(RECORD_STATUSES)
    page.goto("/pricing")
    page.locator("article[data-plan='solo']").get_by_role("button", name="Upgrade").click()
    expect(page).to_have_title("Sandbox Checkout")
    page.get_by_label("Card number").fill(CARD_3DS)
    page.get_by_role("button", name="Subscribe").click()
    expect(page).to_have_title("Sandbox 3D Secure")
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url("**/settings*")

    expect(page.locator(".badge[data-status='active']")).to_be_visible(timeout=30_000)
    assert _statuses(page) == ["active"]
    screenshot(page)
