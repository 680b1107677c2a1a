"""What ``billing serve`` refuses to start with (issue 15 items 7 and 8)."""

from pathlib import Path

import pytest
from billing_platform.serve_checks import check_serve_settings, is_placeholder, serve_problems
from billing_platform.settings import BillingSettings, SettingsError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
GOOD = {
    "jwt_secret": "3f1c9e0b7a52d4e68c1f0a9b2d7e4c5a3f1c9e0b7a52d4e68c1f0a9b2d7e4c5a",
    "jwt_audience": "billing",
    "jwt_issuer": "https://id.example.org",
    "stripe_webhook_secret": ["whsec_9d1e7c3a5b2f4e6d8c0a1b3c5d7e9f01"],
    "database_url": "postgresql://billing_checkout:Qm3v9xT2pL7w@postgres:5432/billing",
    "amqp_url": "amqp://billing-checkout:Zr8k2Nw5Yp1c@rabbitmq:5672/",
}


def env_example() -> dict[str, str]:
    lines = (ROOT / "deploy" / "env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return dict(pairs)


def test_a_real_configuration_starts() -> None:
    check_serve_settings(BillingSettings(**GOOD))  # type: ignore[arg-type]


def test_every_secret_and_password_in_env_example_is_refused() -> None:
    example = env_example()
    secrets = {k: v for k, v in example.items() if k.endswith(("SECRET", "PASSWORD"))}
    assert {"JWT_SECRET", "STRIPE_WEBHOOK_SECRET", "POSTGRES_PASSWORD"} <= set(secrets)
    for name, value in secrets.items():
        assert is_placeholder(value), (name, value)


@pytest.mark.parametrize(
    "value",
    [
        "change-me-to-32-random-characters-or-more",  # env.example before issue 15
        "change-me-change-me-change-me",  # the README's example before issue 15
        "CHANGEME",
        "replace_me_with_a_real_secret",
        "secret",
        "x" * 40,
    ],
)
def test_a_placeholder_jwt_secret_is_refused(value: str) -> None:
    settings = BillingSettings(**{**GOOD, "jwt_secret": value})  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=r"JWT_SECRET is a placeholder.*openssl rand"):
        check_serve_settings(settings)


def test_a_placeholder_webhook_secret_among_several_is_refused() -> None:
    secrets = [*GOOD["stripe_webhook_secret"], "whsec_change_me_0123456789abcdef"]
    settings = BillingSettings(**{**GOOD, "stripe_webhook_secret": secrets})  # type: ignore[arg-type]
    assert any("STRIPE_WEBHOOK_SECRET" in p for p in serve_problems(settings))


def test_audience_and_issuer_are_required_unless_opted_out() -> None:
    settings = BillingSettings(**{**GOOD, "jwt_audience": None, "jwt_issuer": None})  # type: ignore[arg-type]
    problems = " ".join(serve_problems(settings))
    assert "JWT_AUDIENCE is not set" in problems
    assert "JWT_ISSUER is not set" in problems
    opted_out = settings.model_copy(
        update={"jwt_require_audience": False, "jwt_require_issuer": False}
    )
    assert serve_problems(opted_out) == []


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("database_url", "postgresql://billing:billing@postgres:5432/billing"),
        ("database_url", "postgresql://billing:change-me@db.internal/billing"),
        ("amqp_url", "amqp://billing:billing@rabbitmq:5672/"),
        ("amqp_url", "amqp://guest:guest@rabbitmq.internal:5672/"),
    ],
)
def test_default_passwords_for_remote_servers_are_refused(name: str, url: str) -> None:
    settings = BillingSettings(**{**GOOD, name: url})  # type: ignore[arg-type]
    assert any(name.upper() in p for p in serve_problems(settings))


def test_this_machines_own_servers_keep_their_local_defaults() -> None:
    local = {
        "database_url": "postgresql://postgres@127.0.0.1:5432/test",
        "amqp_url": "amqp://guest:guest@127.0.0.1:5672/",
    }
    assert serve_problems(BillingSettings(**{**GOOD, **local})) == []  # type: ignore[arg-type]


def test_env_example_lists_every_password_compose_requires() -> None:
    import re

    compose = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", compose))
    assert required <= set(env_example())
    assert not re.search(r"PASSWORD:-", compose), "no default password in docker-compose.yml"
