import pytest
from billing_platform.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit


def test_reads_contract_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1:5432/test")
    monkeypatch.setenv("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_new, whsec_old ,")
    monkeypatch.setenv("STRIPE_PRICE_TEAM", "price_team")
    monkeypatch.setenv("TEAM_TRIAL_DAYS", "7")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("LOG_FORMAT", "CONSOLE")
    settings = load_settings()
    assert settings.stripe_webhook_secret == ["whsec_new", "whsec_old"]
    assert settings.price_ids() == {"team": "price_team"}
    assert settings.team_trial_days == 7
    assert (settings.log_level, settings.log_format) == ("DEBUG", "console")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://x", "DATABASE_URL: Value error, must be a postgresql:// URL"),
        ("AMQP_URL", "http://x", "AMQP_URL"),
        ("STRIPE_API_KEY", "pk_test_123", "STRIPE_API_KEY"),
        ("TEAM_TRIAL_DAYS", "-1", "TEAM_TRIAL_DAYS"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="invalid configuration") as caught:
        load_settings()
    assert expected in str(caught.value)


def test_require_lists_every_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "STRIPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    with pytest.raises(SettingsError, match="DATABASE_URL, STRIPE_API_KEY"):
        settings.require("database_url", "stripe_api_key")


def test_empty_variables_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMQP_URL", "")
    monkeypatch.setenv("STRIPE_API_KEY", "")
    settings = load_settings()
    assert settings.amqp_url is None
    assert settings.stripe_api_key is None
