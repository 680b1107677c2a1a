"""The pages in a real browser: sign-in, pricing from the plans API, readable errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Shot = Callable[[Page], Path]


def test_owner_signs_in_and_sees_every_plan_priced_by_the_api(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner", next_path="/pricing")
    expect(page).to_have_url("/pricing")
    cards = page.locator("article.plan-card")
    expect(cards).to_have_count(4)
    expect(cards.locator("h2")).to_have_text(["Free", "Solo", "Team", "Enterprise"])
    free = page.locator("article[data-plan='free']")
    expect(free.locator(".badge-current")).to_have_text("Current plan")
    expect(page.locator("article[data-plan='solo'] .amount")).to_have_text("$9")
    team = page.locator("article[data-plan='team']")
    expect(team.locator(".amount")).to_have_text("$29")
    expect(team).to_contain_text("14-day free trial")
    expect(team.get_by_role("button", name="Start trial")).to_be_visible()
    expect(page.locator("article[data-plan='enterprise']").get_by_role("button")).to_have_text(
        "Upgrade"
    )
    screenshot(page)


def test_signed_out_visitor_is_offered_the_sign_in(page: Page, screenshot: Shot) -> None:
    page.goto("/settings/billing")
    expect(page.get_by_role("heading", name="You are not signed in")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    expect(page).to_have_url("/dev/sign-in?next=%2Fsettings%2Fbilling")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url("/settings/billing")
    expect(page.get_by_test_id("plan-name")).to_have_text("Free")
    expect(page.locator(".badge[data-status='free']")).to_have_text("Free")
    screenshot(page)


def _error(status: int, code: str, message: str) -> Callable[[Route], None]:
    body = json.dumps({"error": {"code": code, "message": message}})

    def fulfil(route: Route) -> None:
        route.fulfill(status=status, content_type="application/json", body=body)

    return fulfil


def test_api_errors_are_readable_and_retryable(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    page.route("**/api/billing/plans", _error(503, "gateway_unavailable", "stripe is down"))
    page.goto("/pricing")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("temporarily unavailable")
    page.unroute("**/api/billing/plans")
    page.route("**/api/billing/plans", lambda route: route.abort("internetdisconnected"))
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("alert")).to_contain_text("Could not reach the server")
    page.unroute("**/api/billing/plans")
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("article.plan-card")).to_have_count(4)

    page.route("**/api/billing/checkout", _error(404, "not_found", "no service serves this"))
    page.locator("article[data-plan='solo']").get_by_role("button", name="Upgrade").click()
    toast = page.locator(".toast-error")
    expect(toast).to_contain_text("Could not start checkout. No service serves this")
    expect(toast).to_have_attribute("role", "alert")
    screenshot(page)


def test_checkout_return_without_a_network_says_so_and_cleans_the_url(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    page.route("**/api/billing/verify-session", lambda route: route.abort("failed"))
    page.goto("/settings?success=true&session_id=cs_test_unreachable")
    result = page.get_by_test_id("checkout-result")
    expect(result).to_contain_text("We could not reach the server to confirm your checkout")
    expect(page.locator(".toast")).to_have_count(0)  # one error per failure
    expect(page).to_have_url("/settings")
    expect(page.get_by_role("button", name="Verify again")).to_be_visible()
    screenshot(page)


def test_canceled_checkout_shows_a_neutral_notice(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    page.goto("/settings?canceled=true")
    expect(page.locator(".toast-info")).to_contain_text("Checkout canceled")
    expect(page).to_have_url("/settings")
    expect(page.get_by_test_id("plan-name")).to_have_text("Free")
    screenshot(page)


def test_unverifiable_session_shows_verification_failed(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner")
    page.goto("/settings?success=true&session_id=cs_test_doesnotexist")
    result = page.get_by_test_id("checkout-result")
    expect(result).to_contain_text("We could not find this at our payment provider")
    expect(result.get_by_role("link", name="Back to plans")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("Stripe has no such object")
    expect(page.locator(".toast")).to_have_count(0)  # one error per failure
    expect(page).to_have_url("/settings")
    screenshot(page)
