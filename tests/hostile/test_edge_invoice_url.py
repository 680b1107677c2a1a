"""Issue 15 item 10: ``hosted_invoice_url`` went into the banner's ``href`` unchecked; a
``javascript:`` URL in a (forged or odd) invoice would have run in the billing page.
Now the subscriptions view only returns https links (or http to this machine, the
sandbox of ``billing dev``), and the page checks again before it builds the link."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from billing_domain.money import Money
from billing_domain.ordering import AppliedMark
from billing_domain.payment_failure import PaymentFailure
from billing_domain.plans import PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import SubscriptionSnapshot
from billing_platform.testing.tools import require_tool
from subscriptions.views import followable_url, subscription_body

pytestmark = pytest.mark.unit

VIEW_JS = Path(__file__).resolve().parents[2] / "web" / "js" / "subscription-view.js"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
CASES = {
    "javascript:alert(document.cookie)": None,
    "JavaScript:alert(1)": None,
    " javascript:alert(1)": None,
    "data:text/html,<script>alert(1)</script>": None,
    "vbscript:msgbox(1)": None,
    "http://invoice.attacker.test/in_1": None,
    "//invoice.attacker.test/in_1": None,
    "": None,
    "https://invoice.stripe.com/i/acct_1/test_x": "https://invoice.stripe.com/i/acct_1/test_x",
    "http://127.0.0.1:12111/invoice/in_1": "http://127.0.0.1:12111/invoice/in_1",
    "http://localhost:12111/invoice/in_1": "http://localhost:12111/invoice/in_1",
}


@pytest.mark.parametrize(("url", "kept"), list(CASES.items()), ids=repr)
def test_the_api_returns_only_followable_invoice_links(url: str, kept: str | None) -> None:
    assert followable_url(url) == kept


def test_the_subscription_body_drops_a_javascript_invoice_url() -> None:
    account = BillingAccount.free("tenant_x")
    snapshot = SubscriptionSnapshot(
        subscription_id="sub_1",
        customer_id="cus_1",
        plan=PlanType.TEAM,
        status=SubscriptionStatus.PAST_DUE,
        current_period_end=T0 + timedelta(days=30),
    )
    account.apply_stripe_snapshot(snapshot, AppliedMark(created=T0, event_id="evt_1"))
    failure = PaymentFailure(
        amount_due=Money(amount=2900, currency="usd"),
        hosted_invoice_url="javascript:alert(document.cookie)",
        next_payment_attempt=None,
        invoice_id="in_1",
    )
    mark = AppliedMark(created=T0 + timedelta(seconds=1), event_id="evt_2")
    account.record_payment_failed(failure, mark=mark, object_id="in_1")
    body = subscription_body(account, now=datetime.now(UTC))
    assert body["payment_failed"]["hosted_invoice_url"] is None
    assert body["payment_failed"]["amount_due"] == 2900  # the banner itself still shows


def test_the_page_checks_the_link_too() -> None:
    node = require_tool("node")
    script = (
        f"import {{ followableUrl }} from {json.dumps(str(VIEW_JS))};"
        f"console.log(JSON.stringify({json.dumps(list(CASES))}.map(followableUrl)));"
    )
    result = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == list(CASES.values())
