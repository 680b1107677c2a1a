"""Trials in the browser (issue 20), against ``billing dev`` and its Stripe sandbox: the
trial banner with and without a card (billing and pricing pages), the convert-now
confirmation showing the charge before it is made, and the operator's extension form.
Each keeps a screenshot (``.artifacts/screenshots/<test>.png``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Shot = Callable[[Page], Path]
SignIn = Callable[..., str]
TRIAL_END = "2027-01-10T12:00:00Z"


def _trial(**overrides: Any) -> dict[str, Any]:
    body = {
        "tenant_id": "t",
        "plan_type": "team",
        "status": "trialing",
        "status_label": "Trial",
        "cancel_at_period_end": False,
        "current_period_end": TRIAL_END,
        "trial_end": TRIAL_END,
        "payment_failed": None,
        "pending_plan": None,
        "has_payment_method": False,
        "trial_ends_in_days": 3,
    }
    return body | overrides


def _serve(page: Page, body: dict[str, Any]) -> None:
    """The subscription as Stripe's trial_will_end left it: days take weeks in Stripe."""

    def fulfil(route: Route) -> None:
        if route.request.method == "GET":
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.route("**/api/billing/subscription", fulfil)


def test_trial_banner_without_a_card_on_billing_and_pricing(
    page: Page, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "owner")
    _serve(page, _trial())
    page.goto("/settings/billing")
    banner = page.get_by_test_id("banner")
    expect(banner).to_have_attribute("data-kind", "trial_ending")
    expect(banner).to_contain_text("Your trial ends in 3 days")
    expect(banner).to_contain_text("Add a card to keep Team")
    expect(banner.get_by_role("button", name="Add a card")).to_be_visible()
    expect(page.get_by_role("button", name="End trial now")).to_have_count(0)  # no card
    page.goto("/pricing")
    trial = page.get_by_test_id("pricing-trial")
    expect(trial).to_contain_text("Your trial ends in 3 days")
    expect(trial).to_contain_text("Add a card to keep Team")
    expect(page.get_by_test_id("trial-left")).to_have_text("3 days left in your trial")
    screenshot(page)


def test_no_trial_banner_once_a_card_is_added_or_the_trial_converted(
    page: Page, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "owner")
    _serve(page, _trial(has_payment_method=True))
    page.goto("/settings/billing")
    page.locator(".subscription").wait_for()
    expect(page.get_by_test_id("banner")).to_have_count(0)
    expect(page.get_by_role("button", name="End trial now")).to_be_visible()
    page.unroute("**/api/billing/subscription")
    _serve(page, _trial(status="active", has_payment_method=True, trial_ends_in_days=None))
    page.goto("/pricing")
    page.get_by_test_id("pricing-state").wait_for()
    expect(page.get_by_test_id("pricing-trial")).to_have_count(0)
    expect(page.get_by_test_id("trial-left")).to_have_count(0)
    screenshot(page)


def test_paused_subscription_says_free_for_now_and_offers_a_card(
    page: Page, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "owner")
    _serve(page, _trial(status="paused", status_label="Paused", trial_ends_in_days=None))
    page.goto("/settings/billing")
    banner = page.get_by_test_id("banner")
    expect(banner).to_have_attribute("data-kind", "paused")
    expect(banner).to_contain_text("Your Team subscription is paused")
    expect(page.locator(".badge[data-status='paused']")).to_have_text("Paused")
    screenshot(page)


def test_convert_now_shows_the_charge_then_ends_the_trial(
    page: Page, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "owner", next_path="/pricing")
    page.locator("article[data-plan='team']").get_by_role("button", name="Start trial").click()
    expect(page).to_have_title("Sandbox Checkout")
    page.get_by_role("button", name="Subscribe").click()  # a trial with a card
    page.wait_for_url("**/settings*")
    expect(page.locator(".toast-success")).to_contain_text("Your Team trial has started")
    expect(page.get_by_test_id("plan-name")).to_have_text("Team")
    page.goto("/settings/billing")
    expect(page.locator(".badge[data-status='trialing']")).to_have_text("Trial")
    page.get_by_role("button", name="End trial now").click()
    dialog = page.get_by_role("dialog", name="End your trial now?")
    expect(dialog.get_by_test_id("trial-end-charge")).to_have_text(
        "Your card is charged $29 now for Team."
    )
    dialog.get_by_role("button", name="Keep my trial").click()  # nothing happens
    expect(page.locator(".badge[data-status='trialing']")).to_have_text("Trial")
    page.get_by_role("button", name="End trial now").click()
    dialog = page.get_by_role("dialog", name="End your trial now?")
    expect(dialog).to_contain_text(re.compile(r"Team renews on \w{3} \d{1,2}, \d{4}"))
    screenshot(page)
    dialog.get_by_role("button", name="Pay $29 now").click()
    expect(page.locator(".toast-success")).to_contain_text("Your trial has ended")
    expect(page.locator(".badge[data-status='active']")).to_have_text("Active")
    expect(page.get_by_role("button", name="End trial now")).to_have_count(0)


def test_operator_extends_a_trial_and_the_cap_is_refused(
    page: Page, sign_in: SignIn, screenshot: Shot
) -> None:
    tenant = sign_in(page, "owner", next_path="/pricing")
    page.locator("article[data-plan='team']").get_by_role("button", name="Start trial").click()
    expect(page).to_have_title("Sandbox Checkout")
    page.get_by_role("button", name="Start trial without a card").click()
    page.wait_for_url("**/settings*")
    expect(page.get_by_test_id("plan-name")).to_have_text("Team")

    sign_in(page, "operator", next_path="/admin/webhooks")
    form = page.get_by_role("form", name="Extend a trial")
    form.get_by_label("Tenant id").fill(tenant)
    form.get_by_label("Extra days").fill("20")
    form.get_by_label("Reason").fill("Evaluating SSO")
    form.get_by_role("button", name="Extend trial").click()
    done = page.get_by_test_id("trial-extended")
    expect(done).to_contain_text(f"The trial of {tenant} now ends on")
    expect(done).to_contain_text("20 of 30 extension days used; 10 left")
    row = page.get_by_test_id("trial-extensions").locator(f"tr[data-tenant='{tenant}']")
    expect(row).to_contain_text("+20")
    expect(row).to_contain_text("Evaluating SSO")

    form.get_by_label("Extra days").fill("11")
    form.get_by_role("button", name="Extend trial").click()
    expect(page.get_by_test_id("trial-extension-error")).to_contain_text("30 days in all")
    screenshot(page)
