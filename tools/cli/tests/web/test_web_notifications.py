"""Billing emails through ``billing dev`` (issue 22): a renewal fails on a declining card
and exactly one payment-failed mail arrives at the embedded catcher, with the invoice's
amount and a working link; paying it brings exactly one recovered mail. Every kind's HTML
in every language, rendered in Chromium (light and dark), kept as screenshots."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from billing_cli.testing.dev_server import STRIPE_KEY, DevServer
from playwright.sync_api import Browser, Page, expect

SCREENSHOTS = Path(__file__).resolve().parents[4] / ".artifacts" / "screenshots"
KINDS = (
    "payment_failed",
    "payment_recovered",
    "cancellation_scheduled",
    "subscription_ended",
    "trial_ending",
    "trial_extended",
    "plan_changed",
    "upcoming_renewal",
    "card_expiring",
)
LOCALES = ("en", "fr")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _mails(billing_dev: DevServer, to: str, kind: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = httpx.get(
        f"{billing_dev.base}/dev/mail/messages", timeout=10
    ).json()
    return [mail for mail in listed if mail["to"] == to and mail["kind"] == kind]


def _wait_mail(billing_dev: DevServer, to: str, kind: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _mails(billing_dev, to, kind)
        if found:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"no {kind} mail to {to} within {timeout} s")


def test_a_failed_renewal_mails_once_with_its_amount_and_recovery_mails_once(
    page: Page,
    sign_in: Callable[..., str],
    subscribe: Callable[..., None],
    billing_dev: DevServer,
    screenshot: Callable[[Page], Path],
) -> None:
    tenant = sign_in(page, "owner")
    subscribe(page, "solo")
    customer = billing_dev.customer_of(tenant)
    address = f"{tenant}@example.test"
    billing_dev.stripe_post(f"/customers/{customer}", {"email": address})  # customer.updated
    billing_dev.set_card(customer, "4000000000000341")
    billing_dev.renew(customer)

    failed = _wait_mail(billing_dev, address, "payment_failed")
    invoices = httpx.get(
        f"{billing_dev.sandbox}/v1/invoices",
        params={"customer": customer, "status": "open"},
        headers=STRIPE_KEY,
        timeout=10,
    ).json()["data"]
    [invoice] = invoices
    amount = f"${invoice['amount_due'] / 100:,.2f}"
    assert amount in failed["subject"]
    assert amount in failed["text"]
    link = re.search(r"Update card: (\S+)", failed["text"])
    assert link is not None
    page.goto(link.group(1))
    expect(page).to_have_url(re.compile(r"/settings/billing#payment-methods$"))
    expect(page.get_by_test_id("plan-name")).to_have_text("Solo")

    billing_dev.set_card(customer, "4242424242424242")
    billing_dev.stripe_post(f"/invoices/{invoice['id']}/pay", {})
    recovered = _wait_mail(billing_dev, address, "payment_recovered")
    assert amount in recovered["subject"]
    time.sleep(3)  # a late copy would have arrived by now (sender polls every 2 s)
    assert len(_mails(billing_dev, address, "payment_failed")) == 1
    assert len(_mails(billing_dev, address, "payment_recovered")) == 1

    page.goto("/dev/mail")
    expect(page.get_by_role("heading", name=re.compile("Captured mail"))).to_be_visible()
    expect(page.get_by_text(f"to {address}").first).to_be_visible()
    screenshot(page)


def _operator_token(billing_dev: DevServer) -> str:
    answer = httpx.post(
        f"{billing_dev.base}/dev/token", json={"tenant_id": "ops", "role": "operator"}, timeout=10
    )
    return str(answer.json()["token"])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_kind_and_language_renders_in_chromium(
    browser: Browser, billing_dev: DevServer, scheme: str
) -> None:
    token = _operator_token(billing_dev)
    context = browser.new_context(
        viewport={"width": 640, "height": 900},
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        mail_page = context.new_page()
        for kind in KINDS:
            for locale in LOCALES:
                preview = httpx.get(
                    f"{billing_dev.base}/api/notifications/preview/{kind}",
                    params={"locale": locale},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                )
                assert preview.status_code == 200, preview.text
                body = preview.json()
                mail_page.set_content(body["html"])
                heading = mail_page.get_by_role("heading", level=1)
                expect(heading).to_be_visible()
                buttons = mail_page.get_by_role("link")
                assert buttons.count() >= 1, (kind, locale)
                width = mail_page.evaluate("document.documentElement.scrollWidth")
                assert width <= 640, (kind, locale, width)  # no sideways scroll at 640 px
                mail_page.screenshot(
                    path=str(SCREENSHOTS / f"notifications-{kind}-{locale}-{scheme}.png"),
                    full_page=True,
                )
    finally:
        context.close()
