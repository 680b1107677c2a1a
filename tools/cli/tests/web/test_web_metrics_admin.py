"""The operators' revenue metrics (/admin/metrics): a tenant subscribes through the
sandbox's checkout, and the operator's page shows its MRR in the tiles, the MRR line
with the new MRR as a bar, the plan mix and the movements table, by day and by month;
a bad range and an owner's token get readable refusals. Charts are Chart.js (vendored)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SOLO_MRR = 900  # the sandbox's solo price: 900 usd a month
# The whole run shares one billing dev, whose sandbox clock other tests move forward:
# a range from 30 days ago to well past that clock, by month.
RANGE = "interval=month&from={start}&to={end}"


def _range() -> str:
    today = date.today()
    return RANGE.format(start=today - timedelta(days=30), end=today + timedelta(days=600))


def _report(page: Page) -> dict[str, Any]:
    """The metrics the page reads, fetched with the page's own token and module."""
    found = page.evaluate(
        """async (query) => {
            const { api } = await import("/js/api.js");
            return api(`/api/billing/admin/metrics?${query}`);
        }""",
        _range(),
    )
    return dict(found)


def _usd(report: dict[str, Any]) -> tuple[int, int, int]:
    usd = report["currencies"].get("usd")
    if usd is None:
        return 0, 0, 0
    return (
        usd["series"][-1]["mrr"],
        usd["totals"]["new_mrr"],
        usd["series"][-1]["active_subscriptions"]["solo"],
    )


def _chart(page: Page, canvas: str) -> dict[str, Any]:
    found = page.evaluate(
        """(id) => {
            const chart = window.Chart.getChart(document.getElementById(id));
            if (!chart) return null;
            return {datasets: chart.data.datasets.map((d) => [d.label, d.data]),
                    labels: chart.data.labels};
        }""",
        canvas,
    )
    assert found is not None, f"no chart drawn on #{canvas}"
    return dict(found)


def test_operator_sees_a_new_subscription_as_new_mrr(
    page: Page,
    sign_in: Callable[..., str],
    subscribe: Callable[..., None],
    screenshot: Callable[[Page], Path],
) -> None:
    sign_in(page, "operator", next_path="/admin/metrics")
    page.goto(f"/admin/metrics?{_range()}")
    expect(page.locator("#metrics")).not_to_have_attribute("aria-busy", "true")
    mrr_before, new_before, solo_before = _usd(_report(page))

    sign_in(page, "owner")
    subscribe(page, "solo")

    sign_in(page, "operator", next_path="/admin/metrics")
    page.goto(f"/admin/metrics?{_range()}")
    expect(page.get_by_role("heading", name="Revenue metrics")).to_be_visible()
    for _ in range(30):  # the webhook reaches the ledger a moment later
        if _usd(_report(page))[0] == mrr_before + SOLO_MRR:
            break
        page.wait_for_timeout(1000)
    assert _usd(_report(page)) == (
        mrr_before + SOLO_MRR,
        new_before + SOLO_MRR,
        solo_before + 1,
    )
    page.get_by_role("button", name="Show metrics").click()
    expect(page.locator("#metrics")).not_to_have_attribute("aria-busy", "true")
    expect(page.get_by_label("Currency")).to_have_value("usd")
    money = re.compile(r"\$[0-9,.]+")
    expect(page.get_by_test_id("tile-mrr").locator(".tile-value")).to_have_text(money)
    expect(page.get_by_test_id("movement-new")).to_have_text(money)
    expect(page.get_by_test_id("tile-checkout-conversion")).to_contain_text("%")

    mrr = _chart(page, "mrr-chart")
    datasets = dict(mrr["datasets"])
    assert list(datasets) == ["MRR", "New", "Expansion", "Reactivation", "Contraction", "Churn"]
    assert datasets["MRR"][-1] == mrr_before + SOLO_MRR
    assert sum(datasets["New"]) == new_before + SOLO_MRR
    assert all(value <= 0 for value in datasets["Churn"])  # below the axis
    plans = _chart(page, "plan-chart")
    solo = plans["labels"].index("Solo")
    assert plans["datasets"][0][1][solo] == solo_before + 1
    desktop = screenshot(page)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: no sideways scroll
    page.wait_for_timeout(500)  # Chart.js resizes its canvases on the next frames
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    page.screenshot(path=str(desktop.with_name("metrics_admin_phone.png")), full_page=True)
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right
                           > document.documentElement.clientWidth + 1)
            .slice(0, 5).map((e) => e.tagName + '#' + e.id + '.' + e.className)"""
    )
    assert int(overflow) <= 0, wide
    page.screenshot(path=str(desktop.with_name("metrics_admin_phone.png")), full_page=True)


def test_a_range_backwards_is_a_readable_error(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path]
) -> None:
    sign_in(page, "operator", next_path="/admin/metrics")
    page.goto("/admin/metrics?from=2026-11-02&to=2026-11-01")
    expect(page.get_by_role("alert")).to_contain_text(re.compile("from is after to", re.I))
    screenshot(page)


def test_an_owner_gets_a_readable_refusal(
    page: Page, sign_in: Callable[..., str], screenshot: Callable[[Page], Path]
) -> None:
    sign_in(page, "owner")
    page.goto("/admin/metrics")
    expect(page.get_by_role("alert")).to_contain_text("for operators")
    expect(page.get_by_text("needs an operator token")).to_be_visible()
    screenshot(page)
