"""The issue's journeys, by clicking, against ``billing dev`` and its Stripe sandbox."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from billing_cli.testing.dev_server import DevServer
from playwright.sync_api import Locator, Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Shot = Callable[[Page], Path]
Subscribe = Callable[..., None]
SignIn = Callable[..., str]
CARD_DECLINED = "4000000000000341"


def test_trial_from_pricing_through_checkout_back_to_a_verified_trial(
    page: Page, sign_in: SignIn, screenshot: Shot
) -> None:
    sign_in(page, "owner", next_path="/pricing")
    page.locator("article[data-plan='team']").get_by_role("button", name="Start trial").click()
    expect(page).to_have_title("Sandbox Checkout")
    expect(page.locator("body")).to_contain_text("14-day free trial")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/settings*")
    expect(page.locator(".toast-success")).to_contain_text("Your Team trial has started")
    expect(page).to_have_url("/settings")  # the query is gone once verified
    expect(page.get_by_test_id("plan-name")).to_have_text("Team")
    expect(page.locator(".badge[data-status='trialing']")).to_have_text("Trial")
    expect(page.get_by_test_id("date-line")).to_contain_text("Trial ends on")
    screenshot(page)


def test_cancel_needs_cancel_typed_then_shows_cancels_on_and_resume_undoes_it(
    page: Page, sign_in: SignIn, subscribe: Subscribe, screenshot: Shot
) -> None:
    sign_in(page, "owner")
    subscribe(page, "solo")
    page.goto("/settings/billing")
    opener = page.get_by_role("button", name="Cancel subscription")
    opener.click()
    dialog = page.get_by_role("dialog", name="Cancel subscription?")
    expect(dialog).to_contain_text("stays active until the end of the current period")
    page.keyboard.press("Escape")  # Escape closes, focus goes back
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    opener.click()
    confirm = dialog.get_by_role("button", name="Cancel subscription")
    field = dialog.get_by_label("Type CANCEL to confirm")
    expect(field).to_be_focused()
    expect(confirm).to_be_disabled()
    field.fill("cancel")
    expect(confirm).to_be_disabled()
    field.fill("CANCEL")
    confirm.click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".toast-success")).to_contain_text("Cancellation scheduled")
    expect(page.get_by_test_id("date-line")).to_contain_text("Access until ")

    page.reload()  # the state comes from the server, not from the page
    expect(page.get_by_test_id("date-line")).to_contain_text("Access until ")
    page.get_by_role("button", name="Resume subscription").click()
    expect(page.locator(".toast-success").last).to_contain_text("Subscription resumed")
    expect(page.get_by_test_id("date-line")).to_contain_text("Renews on ")
    expect(page.get_by_role("button", name="Cancel subscription")).to_be_visible()
    screenshot(page)


def test_upgrade_previews_the_proration_and_downgrade_waits_for_the_period_end(
    page: Page, sign_in: SignIn, subscribe: Subscribe, screenshot: Shot
) -> None:
    sign_in(page, "owner")
    subscribe(page, "solo")
    page.goto("/pricing")
    page.locator("article[data-plan='team']").get_by_role("button", name="Upgrade").click()
    dialog = page.get_by_role("dialog", name="Upgrade to Team")
    expect(dialog.get_by_test_id("effective")).to_have_text("Takes effect now.")
    money = re.compile(r"^\$\d+(\.\d\d)?$")
    expect(dialog.get_by_test_id("proration-amount")).to_have_text(money)
    expect(dialog.get_by_test_id("next-invoice")).to_have_text(money)
    expect(dialog).to_contain_text("Prorated amount for the rest of this period")
    dialog.get_by_role("button", name="Upgrade to Team").click()
    expect(page.locator(".toast-success").last).to_contain_text("Plan upgraded")
    team = page.locator("article[data-plan='team']")
    expect(team.locator(".badge-current")).to_have_text("Current plan")

    page.locator("article[data-plan='solo']").get_by_role("button", name="Downgrade").click()
    dialog = page.get_by_role("dialog", name="Downgrade to Solo")
    expect(dialog.get_by_test_id("effective")).to_contain_text("at the end of the current period")
    dialog.get_by_role("button", name="Downgrade to Solo").click()
    expect(page.locator(".toast-success").last).to_contain_text("Plan downgrade scheduled")
    page.goto("/settings/billing")
    expect(page.get_by_test_id("plan-name")).to_have_text("Team")
    expect(page.get_by_test_id("pending-plan")).to_contain_text("Your plan changes to Solo on")
    expect(page.get_by_test_id("date-line")).to_contain_text("Changes to Solo on")
    screenshot(page)


def test_failed_renewal_shows_the_banner_until_a_new_card_pays(
    page: Page, sign_in: SignIn, subscribe: Subscribe, billing_dev: DevServer, screenshot: Shot
) -> None:
    sign_in(page, "owner")
    subscribe(page, "solo")
    page.goto("/settings/billing")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Manage subscription").click()
    portal = opened.value
    expect(portal).to_have_title("Sandbox Customer Portal")
    portal.get_by_label("Card number").fill(CARD_DECLINED)
    with portal.expect_navigation():
        portal.get_by_role("button", name="Update card").click()
    expect(portal.locator(".error")).to_have_count(0)
    portal.close()

    renews = page.get_by_test_id("date-line").locator("strong").inner_text()
    period_end = int(datetime.strptime(renews, "%b %d, %Y").timestamp())
    now = billing_dev.sandbox_now()
    billing_dev.advance_clock(max(period_end - now, 0) + 2 * 86_400)

    banner = page.locator("[data-testid=banner][data-kind=payment_failed]")
    _reload_until(page, banner, present=True)
    expect(banner).to_contain_text("Your bank declined the payment of $9 on Visa ending in 0341.")
    # invoice.payment_failed and the past_due subscription are two events: wait for both
    overdue = page.get_by_test_id("date-line").filter(has_text="Payment overdue since")
    _reload_until(page, overdue, present=True)
    expect(page.get_by_role("main")).not_to_contain_text("Renews on")

    # "Update card" (issue 21): Checkout in setup mode in this tab, then "pay now"
    banner.get_by_role("button", name="Update card").click()
    expect(page).to_have_title("Sandbox Checkout")
    page.get_by_label("Card number").fill("5555555555554444")
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url("**/settings/billing*")
    offer = page.get_by_test_id("pay-now-offer")
    expect(offer).to_contain_text("Mastercard ending in 4444 is saved and is now your default card")
    offer.get_by_role("button", name="Pay now with this card").click()
    expect(page.locator(".toast-success").last).to_contain_text("Payment sent")
    _reload_until(page, banner, present=False)
    _reload_until(page, page.locator(".badge[data-status='active']"), present=True)
    newest = page.get_by_test_id("invoice-row").first
    expect(newest.get_by_test_id("invoice-status")).to_have_text("Paid")
    mastercard = page.get_by_test_id("payment-method").filter(has_text="ending in 4444")
    expect(mastercard.get_by_test_id("default-badge")).to_be_visible()
    screenshot(page)


def test_the_new_card_is_offered_even_when_it_reached_the_list_before_the_page(
    page: Page, sign_in: SignIn, subscribe: Subscribe, billing_dev: DevServer, screenshot: Shot
) -> None:
    """The race behind the flaky journey above: Stripe's payment_method.attached reached
    the card list before the page came back from the setup page, so a page that spotted
    the new card by what its list gained found nothing and never offered to pay."""
    sign_in(page, "owner")
    subscribe(page, "solo")
    page.goto("/settings/billing")
    token = page.evaluate("() => sessionStorage.getItem('billing.token')")
    _fail_the_renewal(page, billing_dev)
    banner = page.locator("[data-testid=banner][data-kind=payment_failed]")
    _reload_until(page, banner, present=True)

    def after_the_card_is_listed(route: Route) -> None:
        for _ in range(60):  # hold the return page until the webhook has listed the card
            listed = httpx.get(
                f"{billing_dev.base}/api/billing/payment-methods",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).json()
            if any(card["last4"] == "4444" for card in listed):
                break
            time.sleep(0.5)
        route.continue_()

    page.route(re.compile(r".*/settings/billing\?setup=complete.*"), after_the_card_is_listed)
    banner.get_by_role("button", name="Update card").click()
    expect(page).to_have_title("Sandbox Checkout")
    page.get_by_label("Card number").fill("5555555555554444")
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url("**/settings/billing*")

    offer = page.get_by_test_id("pay-now-offer")
    expect(offer).to_contain_text("Mastercard ending in 4444 is saved and is now your default card")
    screenshot(page)


def _fail_the_renewal(page: Page, billing_dev: DevServer) -> None:
    """The customer's card becomes 0341 (declines every charge) and the period ends."""
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Manage subscription").click()
    portal = opened.value
    portal.get_by_label("Card number").fill(CARD_DECLINED)
    with portal.expect_navigation():
        portal.get_by_role("button", name="Update card").click()
    portal.close()
    renews = page.get_by_test_id("date-line").locator("strong").inner_text()
    period_end = int(datetime.strptime(renews, "%b %d, %Y").timestamp())
    billing_dev.advance_clock(max(period_end - billing_dev.sandbox_now(), 0) + 2 * 86_400)


def _reload_until(page: Page, locator: Locator, *, present: bool, attempts: int = 30) -> None:
    """Reload until ``locator`` is (or is no longer) on the page: Stripe's webhooks reach
    the projection a moment after the sandbox acted."""
    for _ in range(attempts):
        page.reload()
        page.locator(".subscription").wait_for()
        if bool(locator.count()) is present:
            return
        page.wait_for_timeout(1000)
    expect(locator).to_have_count(1 if present else 0)


def test_member_sees_the_state_but_no_owner_actions(
    page: Page, sign_in: SignIn, subscribe: Subscribe, screenshot: Shot
) -> None:
    tenant = sign_in(page, "owner")
    subscribe(page, "solo")
    sign_in(page, "member", tenant=tenant, next_path="/pricing")
    expect(page.locator("article[data-plan='solo'] .badge-current")).to_be_visible()
    expect(page.locator("article.plan-card").get_by_role("button")).to_have_count(0)
    page.goto("/settings/billing")
    expect(page.get_by_test_id("plan-name")).to_have_text("Solo")
    expect(page.locator(".badge[data-status='active']")).to_be_visible()
    expect(page.get_by_test_id("member-note")).to_be_visible()
    main = page.get_by_role("main")
    for name in ("Cancel subscription", "Manage subscription", "Resume subscription"):
        expect(main.get_by_role("button", name=name)).to_have_count(0)
    screenshot(page)
