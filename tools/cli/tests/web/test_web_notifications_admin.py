"""/admin/notifications (issue 22, "a section on the operator pages"): the send log of
billing emails, failed first, filtered by status, kind and tenant; each kind previewed in
each language, its HTML rebuilt in the page (inline styles applied under the pages' CSP,
nothing of the mail run or loaded). The preview and the empty log come from ``billing
dev``'s notifications API; rows with a failure (the dev catcher accepts every mail) are
served in the browser, hostile text included. Screenshots in ``.artifacts/screenshots``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Shot = Callable[[Page], Path]
HOSTILE = "<img src=x onerror=\"document.body.dataset.owned='yes'\">"


def _entry(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": 7,
        "kind": "payment_failed",
        "tenant_id": "tenant_acme",
        "subject_id": "in_1QxF",
        "day": "2026-12-01",
        "status": "failed",
        "to": "billing@acme.example",
        "attempts": 1,
        "last_error": "rejected: 550 5.1.1 no such mailbox",
        "created_at": "2026-12-01T09:30:00Z",
        "sent_at": None,
    }
    return entry | overrides


def test_an_operator_reads_the_failures_and_previews_every_kind(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "operator", next_path="/admin/notifications")
    expect(page).to_have_url("/admin/notifications")
    expect(page.get_by_role("link", name="Emails")).to_have_attribute("aria-current", "page")
    expect(page.locator("#send-log")).to_contain_text("No emails match these filters.")

    asked: list[dict[str, list[str]]] = []
    rows = [
        _entry(),
        _entry(id=6, tenant_id=HOSTILE, to=HOSTILE, last_error=HOSTILE, subject_id=HOSTILE),
        _entry(id=5, status="skipped", kind="trial_ending", last_error="converted before"),
        _entry(
            id=4,
            status="sent",
            kind="card_expiring",
            last_error=None,
            sent_at="2026-12-01T09:00:00Z",
        ),
    ]

    def serve(route: Route, request: Request) -> None:
        query = parse_qs(urlsplit(request.url).query)
        asked.append(query)
        wanted = query.get("status", [None])[0]
        body = {"entries": [r for r in rows if wanted in (None, r["status"])]}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page.route("**/api/notifications/log?**", serve)
    page.get_by_label("Kind").first.select_option("payment_failed")
    page.get_by_label("Tenant id").fill("  tenant_acme  ")
    page.get_by_role("button", name="Show emails").click()
    log = page.locator("#send-log")
    expect(log.get_by_test_id("mail-row")).to_have_count(2)
    assert asked[-1] == {
        "limit": ["100"],
        "status": ["failed"],
        "kind": ["payment_failed"],
        "tenant_id": ["tenant_acme"],
    }
    first = log.get_by_test_id("mail-row").first
    expect(first).to_contain_text("Payment failed")
    expect(first).to_contain_text("rejected: 550 5.1.1 no such mailbox")
    expect(first.get_by_test_id("mail-status")).to_have_text("Failed")
    expect(log.get_by_test_id("mail-row").nth(1)).to_contain_text(HOSTILE)  # as text
    expect(log.locator("img")).to_have_count(0)
    assert page.evaluate("document.body.dataset.owned") is None

    page.get_by_label("Status").select_option("")
    page.get_by_label("Kind").first.select_option("")
    page.get_by_label("Tenant id").fill("")
    page.get_by_role("button", name="Show emails").click()
    expect(log.get_by_test_id("mail-row")).to_have_count(4)
    assert asked[-1] == {"limit": ["100"]}
    skipped = log.locator("tr[data-status='skipped']")
    expect(skipped).to_contain_text("converted before")
    expect(skipped.get_by_test_id("mail-status")).to_have_text("Skipped")
    expect(log.locator("tr[data-status='sent']")).to_contain_text("Sent Dec 1, 2026")

    preview = page.get_by_role("region", name="Preview an email")
    for kind, locale, subject in (
        ("payment_failed", "en", "$49"),
        ("payment_failed", "fr", "49,00"),
        ("card_expiring", "en", "ending 4242"),
    ):
        preview.get_by_label("Kind").select_option(kind)
        preview.get_by_label("Language").select_option(locale)
        preview.get_by_role("button", name="Preview").click()
        expect(preview.get_by_test_id("mail-subject")).to_contain_text(subject)
    mail = preview.get_by_test_id("mail-html")
    heading = mail.get_by_role("heading", level=3)
    expect(heading).to_be_visible()
    button = mail.get_by_role("link").first
    expect(button).to_have_attribute("target", "_blank")
    assert (button.get_attribute("href") or "").startswith("http")
    # the mail's inline styles apply (CSSOM), its <style> block too (a constructed sheet)
    assert button.evaluate("b => getComputedStyle(b).borderTopStyle") == "solid"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, width
    preview.get_by_text("Plain-text part").click()
    expect(preview.get_by_test_id("mail-text")).to_contain_text("Update card")
    preview.scroll_into_view_if_needed()
    screenshot(page)


def test_a_member_is_told_the_page_is_for_operators(
    page: Page, sign_in: Callable[..., str], screenshot: Shot
) -> None:
    sign_in(page, "owner", next_path="/admin/notifications")
    page.goto("/admin/notifications")
    expect(page.locator("#scope-note")).to_be_visible()
    expect(page.locator("#send-log").get_by_role("alert")).to_contain_text(
        "This page is for operators only."
    )
    expect(page.get_by_role("link", name="Emails")).to_have_count(0)
    preview = page.get_by_role("region", name="Preview an email")
    preview.get_by_role("button", name="Preview").click()
    expect(page.locator(".toast-error p")).to_have_text(
        "Could not preview this email: This page is for operators only."
    )
    screenshot(page)
