"""Which stored links a page may put in an href (the invoices page shows 40 of them)."""

from __future__ import annotations

import pytest
from subscriptions.views import followable_by_parsing, followable_url

pytestmark = pytest.mark.unit

STRIPE = "https://invoice.stripe.com/i/acct_1Nx/test_YWNjdF8xTnh4?s=ap"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (STRIPE, True),
        ("https://pay.stripe.com/invoice/acct_1/test_x/pdf?s=ap", True),
        ("https://invoice.stripe.test:8443/t/2026-11", True),
        ("https://invoice.stripe.com", True),
        ("HTTPS://INVOICE.STRIPE.COM/i/x", True),
        ("https://host?x=1", True),
        ("http://127.0.0.1:12111/invoices/in_1/pdf", True),
        ("http://localhost/x", True),
        ("http://[::1]:8000/x", True),
        ("http://invoice.stripe.com/i/x", False),
        ("javascript:alert(1)//https://invoice.stripe.com/", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("https://", False),
        ("https:///only/a/path", False),
        ("https://:443/x", False),
        ("https://[::1/x", False),
        ("//invoice.stripe.com/i/x", False),
        ("https://user@/x", False),
        ("https://evil.example/x\njavascript:alert(1)", True),
    ],
)
def test_a_link_is_kept_exactly_when_the_rule_says_so(url: str, kept: bool) -> None:
    assert followable_by_parsing(url) == (url if kept else None)  # the rule, parsed
    assert followable_url(url) == (url if kept else None)


def test_nothing_is_nothing() -> None:
    assert followable_url(None) is None
    assert followable_url("") is None
