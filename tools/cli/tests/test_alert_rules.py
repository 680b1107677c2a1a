"""deploy/observability/alerts.yml: valid for promtool, its unit tests pass, and every
metric it reads is one the services really export."""

import re
import subprocess
from pathlib import Path

import analytics.metrics
import billing_platform.metrics
import checkout.metrics
import notifications.metrics
import pytest
import subscriptions.metrics
import webhooks.metrics
from billing_platform.testing.tools import require_tool
from prometheus_client.metrics import MetricWrapperBase

pytestmark = pytest.mark.unit

OBSERVABILITY = Path(__file__).resolve().parents[3] / "deploy" / "observability"
ALERTS = OBSERVABILITY / "alerts.yml"


def _promtool() -> str:
    return require_tool("promtool")


def _exported_names() -> set[str]:
    names = set()
    for module in (
        billing_platform.metrics,
        checkout.metrics,
        subscriptions.metrics,
        webhooks.metrics,
        notifications.metrics,
        analytics.metrics,
    ):
        for value in vars(module).values():
            if isinstance(value, MetricWrapperBase):
                for family in value.describe():
                    names |= {family.name, f"{family.name}_total", f"{family.name}_bucket"}
    return names


def test_promtool_checks_the_rules() -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_fire_on_their_situations_and_not_below_them() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", "alerts_test.yml"],
        cwd=OBSERVABILITY,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_of_the_runbook_exist() -> None:
    alerts = set(re.findall(r"- alert: (\w+)", ALERTS.read_text()))
    assert alerts == {
        "BillingWebhookFailureRateHigh",
        "BillingPaymentFailureRateHigh",
        "BillingWebhookBacklogHigh",
        "BillingCheckoutCreationFailureRateHigh",
        # events never stranded
        "BillingWebhookEventStale",
        "BillingWebhookEventFailed",
        "BillingDeadLetters",
        "BillingOutboxStuck",
        "BillingConsumerLagGrowing",
        # notifications
        "BillingNotificationsFailing",
    }


def test_every_alert_has_a_unit_test_and_a_runbook_line() -> None:
    alerts = set(re.findall(r"- alert: (\w+)", ALERTS.read_text()))
    tested = set(re.findall(r"alertname: (\w+)", (OBSERVABILITY / "alerts_test.yml").read_text()))
    runbook = (OBSERVABILITY.parent / "README.md").read_text()
    assert alerts <= tested, alerts - tested
    assert {a for a in alerts if f"`{a}`" not in runbook} == set()


def test_every_metric_read_by_the_rules_is_exported_by_a_service() -> None:
    text = "\n".join(
        line for line in ALERTS.read_text().splitlines() if not line.lstrip().startswith("#")
    )
    recorded = set(re.findall(r"record: ([\w:]+)", text))
    used = set(re.findall(r"\b(billing_[a-z_]+)\b", text)) - recorded
    assert used, "no metric found"
    assert used <= _exported_names(), used - _exported_names()
