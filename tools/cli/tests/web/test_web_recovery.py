"""Issue 18, recovery that recovers, walked in the browser against ``billing dev`` and its
Stripe sandbox: a renewal that needs 3-D Secure offers "Confirm payment" (the hosted
invoice page), a declined renewal shows the attempts and is paid with "Pay now" after
"Update card". Each step keeps a screenshot (``recovery-<step>.png``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from billing_cli.testing.dev_server import DevServer
from playwright.sync_api import Locator, Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SignIn = Callable[..., str]
SCREENSHOTS = Path(__file__).resolve().parents[4] / ".artifacts" / "screenshots"
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"
CARD_3DS = "4000002500003155"
CARD_NO_FUNDS = "4000000000009995"


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"recovery-{name}.png"), full_page=True)


def _reload_until(page: Page, locator: Locator, *, present: bool, attempts: int = 30) -> None:
    for _ in range(attempts):
        page.reload()
        page.locator(".subscription").wait_for()
        if bool(locator.count()) is present:
            return
        page.wait_for_timeout(1000)
    expect(locator).to_have_count(1 if present else 0)


def _buy_solo(page: Page, card: str) -> None:
    page.goto("/pricing")
    page.locator("article[data-plan='solo']").get_by_role("button", name="Upgrade").click()
    expect(page).to_have_title("Sandbox Checkout")
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name="Subscribe").click()
    if card == CARD_3DS:
        expect(page).to_have_title("Sandbox 3D Secure")
        page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url("**/settings*")
    expect(page.locator(".toast-success")).to_be_visible()
    page.goto("/settings/billing")
    # Stripe's events reach the projection a moment later (longer on a loaded machine)
    _reload_until(page, page.locator(".badge[data-status='active']"), present=True, attempts=60)
    expect(page.get_by_test_id("plan-name")).to_have_text("Solo")


def _renew(page: Page, billing_dev: DevServer) -> None:
    """Move the sandbox's clock past the period end: Stripe tries to renew."""
    page.goto("/settings/billing")
    renews = page.get_by_test_id("date-line").locator("strong").inner_text()
    period_end = int(datetime.strptime(renews, "%b %d, %Y").timestamp())
    billing_dev.advance_clock(max(period_end - billing_dev.sandbox_now(), 0) + 2 * 86_400)


def _set_card_in_portal(page: Page, card: str) -> None:
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Manage subscription").click()
    portal = opened.value
    portal.get_by_label("Card number").fill(card)
    with portal.expect_navigation():
        portal.get_by_role("button", name="Update card").click()
    expect(portal.locator(".error")).to_have_count(0)
    portal.close()


def test_a_renewal_that_needs_3ds_offers_confirm_payment_on_the_hosted_invoice_page(
    page: Page, sign_in: SignIn, billing_dev: DevServer
) -> None:
    sign_in(page, "owner")
    _buy_solo(page, CARD_3DS)
    _renew(page, billing_dev)

    banner = page.locator("[data-testid=banner][data-kind=requires_action]")
    _reload_until(page, banner, present=True)
    expect(banner.get_by_role("heading")).to_have_text("Confirm your payment")
    expect(banner).to_contain_text("Your bank asks you to confirm the payment of $9 for Solo")
    main = page.get_by_role("main")
    expect(main).not_to_contain_text("Renews on")
    expect(main).not_to_contain_text("No further attempts")
    expect(page.get_by_test_id("date-line")).to_contain_text("Payment overdue since")
    _shot(page, "3ds-confirm-payment")

    confirm = banner.get_by_role("link", name="Confirm payment")
    with page.context.expect_page() as opened:
        confirm.click()
    invoice = opened.value
    expect(invoice).to_have_title("Sandbox Invoice")
    invoice.get_by_label("Card number").fill(CARD_OK)
    with invoice.expect_navigation():
        invoice.get_by_role("button", name="Pay").click()
    expect(invoice.locator("body")).to_contain_text("paid")
    invoice.close()

    _reload_until(page, banner, present=False)
    # invoice.paid and the subscription's return to active are two events
    _reload_until(page, page.locator(".badge[data-status='active']"), present=True)
    expect(page.get_by_test_id("date-line")).to_contain_text("Renews on")
    _shot(page, "3ds-recovered")


def test_a_declined_renewal_shows_the_attempts_then_update_card_and_pay_now_recover(
    page: Page, sign_in: SignIn, billing_dev: DevServer
) -> None:
    sign_in(page, "owner")
    _buy_solo(page, CARD_OK)
    page.goto("/settings/billing")
    _set_card_in_portal(page, CARD_DECLINED)
    _renew(page, billing_dev)

    banner = page.locator("[data-testid=banner][data-kind=payment_failed]")
    _reload_until(page, banner, present=True)
    expect(banner.get_by_role("heading")).to_have_text("Payment failed")
    expect(banner).to_contain_text("Your bank declined the payment of $9 on Visa ending in 0341.")
    expect(banner).to_contain_text("We will try again automatically on")
    expect(banner.get_by_test_id("attempts")).to_contain_text("Declined on Visa ending in 0341")
    expect(page.get_by_role("main")).not_to_contain_text("Renews on")
    _shot(page, "declined")

    _set_card_in_portal(page, CARD_OK)
    page.bring_to_front()
    banner.get_by_role("button", name="Pay now").click()
    expect(page.locator(".toast-success").last).to_contain_text("Payment received")
    expect(banner).to_have_count(0, timeout=30_000)  # re-read until the invoice is paid
    # invoice.paid and the subscription's return to active are two events
    _reload_until(page, page.locator(".badge[data-status='active']"), present=True)
    _shot(page, "declined-paid-now")


def test_the_banner_names_the_decline_the_card_and_each_attempt(
    page: Page, sign_in: SignIn, billing_dev: DevServer
) -> None:
    """The card ran out of funds (4000 0000 0000 9995 put on the customer by the
    sandbox's control): the bank's reason in plain words, the card, and one line per
    attempt as Stripe retries."""
    tenant = sign_in(page, "owner")
    _buy_solo(page, CARD_OK)
    customer = billing_dev.customer_of(tenant)
    swapped = httpx.post(
        f"{billing_dev.sandbox}/_sandbox/customers/{customer}/card",
        data={"card": CARD_NO_FUNDS},
        timeout=10,
    )
    assert swapped.status_code == 200, swapped.text
    _renew(page, billing_dev)

    banner = page.locator("[data-testid=banner][data-kind=payment_failed]")
    _reload_until(page, banner, present=True)
    expect(banner).to_contain_text(
        "Your bank declined the payment of $9 on Visa ending in 9995 (insufficient funds)."
    )
    attempts = banner.get_by_test_id("attempts").locator("li")
    expect(attempts.first).to_contain_text("Declined on Visa ending in 9995 (insufficient funds)")
    expect(attempts.last).to_contain_text("Next automatic attempt")
    expect(banner).not_to_contain_text("insufficient_funds")  # never a raw code

    billing_dev.advance_clock(4 * 86_400)  # Stripe's first retry, 3 days on: declined again
    declined = attempts.filter(has_text="Declined on Visa ending in 9995")
    for _ in range(30):
        page.reload()
        page.locator(".subscription").wait_for()
        if declined.count() == 2:
            break
        page.wait_for_timeout(1000)
    expect(declined).to_have_count(2)
    expect(attempts).to_have_count(3)
    expect(page.get_by_role("main")).not_to_contain_text("Renews on")
    _shot(page, "declined-reason-card-timeline")


def test_after_stripe_gives_up_the_page_says_why_the_subscription_ended(
    page: Page, sign_in: SignIn, billing_dev: DevServer
) -> None:
    sign_in(page, "owner")
    _buy_solo(page, CARD_OK)
    page.goto("/settings/billing")
    _set_card_in_portal(page, CARD_DECLINED)
    _renew(page, billing_dev)
    failed = page.locator("[data-testid=banner][data-kind=payment_failed]")
    _reload_until(page, failed, present=True)
    for days in (4, 6, 8):  # Stripe's retries (3, 5, 7 days apart), then its last step
        billing_dev.advance_clock(days * 86_400)

    ended = page.locator("[data-testid=banner][data-kind=ended_after_failed_payment]")
    _reload_until(page, ended, present=True, attempts=60)
    expect(ended.get_by_role("heading")).to_have_text("Your Solo subscription was canceled")
    expect(ended).to_contain_text("We could not collect the payment after several attempts")
    expect(ended).to_contain_text("nothing more will be charged")
    expect(ended.get_by_role("link", name="Choose a plan")).to_have_attribute("href", "/pricing")
    expect(page.get_by_test_id("plan-name")).to_have_text("Free")
    expect(page.get_by_role("main")).not_to_contain_text("Renews on")
    page.wait_for_timeout(1000)
    expect(page.locator(".toast", has_text="is paid")).to_have_count(0)  # it was not
    _shot(page, "canceled-after-failed-payments")
