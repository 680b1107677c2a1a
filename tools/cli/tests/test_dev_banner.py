"""Issue 15 items 5 and 10: ``billing dev``'s banner prints only secrets it generated, its
URL masking parses URLs (a password with ``@`` or in ``?password=`` leaked), it binds
loopback only, and an installation without the dev server, the sandbox and pgserver
(the production image) still runs ``billing serve`` and ``billing migrate``."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import jwt
import pytest
from billing_cli.dev import banner, bind_problem, redact_url
from billing_cli.main import app
from billing_platform.http.dev_tokens import DEV_ISSUER
from billing_platform.settings import BillingSettings
from typer.testing import CliRunner

pytestmark = pytest.mark.unit

ENV_SECRET = "whsec_from_the_operators_environment"
GENERATED = "whsec_generated_by_billing_dev_itself"


def _running(webhook_secret: str) -> BillingSettings:
    return BillingSettings(
        database_url="postgresql://billing:s3cr3t@db:5432/billing",
        jwt_secret="j" * 40,
        stripe_webhook_secret=[webhook_secret],
    )


def test_a_webhook_secret_from_the_environment_is_never_printed() -> None:
    provided = BillingSettings(stripe_webhook_secret=[ENV_SECRET])
    text = banner(_running(ENV_SECRET), "127.0.0.1", 8000, provided=provided)
    assert ENV_SECRET not in text
    assert "webhook secret: (from STRIPE_WEBHOOK_SECRET, not shown)" in text
    assert "s3cr3t" not in text


def test_a_webhook_secret_billing_dev_generated_is_printed() -> None:
    text = banner(_running(GENERATED), "127.0.0.1", 8000, provided=BillingSettings())
    assert f"webhook secret: {GENERATED}" in text


def test_the_banners_tokens_carry_the_dev_issuer() -> None:
    text = banner(_running(GENERATED), "127.0.0.1", 8000, provided=BillingSettings())
    line = next(line for line in text.splitlines() if "owner token (tenant_demo" in line)
    claims = jwt.decode(line.rsplit(" ", 1)[1], "j" * 40, algorithms=["HS256"])
    assert claims["iss"] == DEV_ISSUER


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://billing:p@ss@db:5432/billing", "postgresql://***@db:5432/billing"),
        ("postgresql://billing:a@b@c@db/billing", "postgresql://***@db/billing"),
        (
            "postgresql://db:5432/billing?user=billing&password=hunter2",
            "postgresql://db:5432/billing?user=billing&password=***",
        ),
        (
            "postgresql://db/billing?sslpassword=x%40y&sslmode=require",
            "postgresql://db/billing?sslpassword=***&sslmode=require",
        ),
        ("amqp://guest:gu@est@rabbit:5672/", "amqp://***@rabbit:5672/"),
        ("amqp://rabbit:5672/", "amqp://rabbit:5672/"),
        ("http://127.0.0.1:12111", "http://127.0.0.1:12111"),
    ],
)
def test_urls_are_masked_by_parsing_them(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    for secret in ("p@ss", "hunter2", "gu@est", "x%40y", "x@y", "a@b@c"):
        assert secret not in redact_url(url)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_is_always_fine(host: str) -> None:
    assert bind_problem(host, allow_remote=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_anything_else_needs_allow_remote(host: str) -> None:
    assert "--allow-remote" in (bind_problem(host, allow_remote=False) or "")
    assert bind_problem(host, allow_remote=True) is None


def test_billing_dev_refuses_to_listen_on_every_interface() -> None:
    result = CliRunner().invoke(app, ["dev", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


# An installation without the dev server, the sandbox and pgserver: importing any of them
# fails, as it does in the production image (deploy/Dockerfile removes them).
WITHOUT_DEV = textwrap.dedent(
    """
    import sys
    from importlib.abc import MetaPathFinder

    ABSENT = ("stripe_sandbox", "pgserver", "billing_cli.dev", "billing_cli.dev_web")

    class Absent(MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if any(name == gone or name.startswith(gone + ".") for gone in ABSENT):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Absent())
    from billing_cli.main import app
    sys.argv = ["billing", *sys.argv[1:]]
    app()
    """
)


@pytest.mark.parametrize(
    "args",
    [["serve", "--help"], ["migrate", "--help"], ["webhooks", "--help"], ["--help"]],
)
def test_the_production_commands_need_neither_the_dev_server_nor_the_sandbox(
    args: list[str],
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_DEV, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dev"], "billing dev is not part of this installation"),
        (["serve", "sandbox"], "the Stripe sandbox is not part of this installation"),
    ],
)
def test_without_them_dev_and_the_sandbox_say_so(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_DEV, *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert message in result.stderr
