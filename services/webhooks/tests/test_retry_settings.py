"""The two lanes and the lease as configured: WEBHOOK_* variables -> the worker's policy."""

from datetime import timedelta

import pytest
from billing_platform.settings import SettingsError, load_settings
from webhooks.bootstrap import retry_policy

pytestmark = pytest.mark.unit


def test_defaults_are_the_contracts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "WEBHOOK_MAX_ATTEMPTS",
        "WEBHOOK_SLOW_RETRY_MAX_SECONDS",
        "WEBHOOK_RETRY_HORIZON_HOURS",
        "WEBHOOK_LEASE_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    policy = retry_policy(settings)
    assert (policy.max_attempts, policy.base_seconds) == (3, 2)
    assert (policy.slow_max_seconds, policy.horizon) == (3600, timedelta(hours=72))
    assert settings.webhook_lease_seconds == 60


def test_the_variables_shape_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("WEBHOOK_SLOW_RETRY_MAX_SECONDS", "600")
    monkeypatch.setenv("WEBHOOK_RETRY_HORIZON_HOURS", "0.5")
    monkeypatch.setenv("WEBHOOK_LEASE_SECONDS", "3")
    settings = load_settings()
    policy = retry_policy(settings)
    assert (policy.max_attempts, policy.slow_max_seconds) == (5, 600)
    assert policy.horizon == timedelta(minutes=30)
    assert settings.webhook_lease_seconds == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_SLOW_RETRY_MAX_SECONDS", "1"),  # shorter than the fast lane's first wait
        ("WEBHOOK_SLOW_RETRY_MAX_SECONDS", "soon"),
        ("WEBHOOK_RETRY_HORIZON_HOURS", "-1"),
        ("WEBHOOK_RETRY_HORIZON_HOURS", "nan"),
        ("WEBHOOK_LEASE_SECONDS", "0"),
        ("WEBHOOK_LEASE_SECONDS", "1e9"),
    ],
)
def test_bad_values_stop_the_process_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert name in str(caught.value)
