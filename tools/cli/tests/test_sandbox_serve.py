"""``billing serve sandbox --public-url --webhook-url --state-file`` and sandbox prices for
the services."""

import asyncio
from pathlib import Path

import httpx
import pytest
import typer
from billing_cli.sandbox_serve import sandbox_config, with_sandbox_prices
from billing_platform.settings import BillingSettings
from billing_platform.testing.processes import ServiceProcess, billing_command, free_port
from stripe_sandbox.server import RunningSandbox

pytestmark = pytest.mark.integration


def test_the_webhook_endpoint_is_signed_with_the_first_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_new, whsec_old")
    config = sandbox_config(
        "0.0.0.0", 12111, public_url="http://localhost:12111", webhook_url="http://gw/api/x"
    )
    (target,) = config.webhooks
    assert (target.url, target.secret) == ("http://gw/api/x", "whsec_new")
    assert config.base_url == "http://localhost:12111"


def test_a_webhook_url_without_a_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    with pytest.raises(typer.Exit):
        sandbox_config("127.0.0.1", 1, public_url=None, webhook_url="http://gw/api/x")
    assert sandbox_config("127.0.0.1", 1, public_url=None, webhook_url=None).webhooks == ()


async def test_unset_prices_come_from_the_sandbox_lookup_keys(
    stripe_sandbox: RunningSandbox, sandbox_prices: dict[str, str]
) -> None:
    settings = BillingSettings(
        stripe_api_key="sk_test_x", stripe_api_base=stripe_sandbox.url, stripe_price_team="mine"
    )
    filled = await asyncio.to_thread(with_sandbox_prices, settings)
    assert filled.price_ids() == {
        "solo": sandbox_prices["solo"],
        "team": "mine",
        "enterprise": sandbox_prices["enterprise"],
    }


def test_against_stripe_itself_nothing_is_looked_up() -> None:
    settings = BillingSettings(stripe_api_key="sk_live_x")
    assert with_sandbox_prices(settings) is settings


def test_an_unreachable_sandbox_leaves_the_settings_as_they_were() -> None:
    settings = BillingSettings(stripe_api_key="sk_test_x", stripe_api_base="http://127.0.0.1:1")
    assert with_sandbox_prices(settings, wait_s=0) is settings


def test_serve_sandbox_keeps_its_objects_in_the_state_file(tmp_path: Path) -> None:
    """Issue 3: ``billing serve sandbox`` ... persisted when asked (``--state-file``)."""
    port = free_port()
    state = tmp_path / "sandbox.sqlite3"
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": "Bearer sk_test_state_file"}
    command = billing_command("serve", "sandbox", "--port", str(port), "--state-file", str(state))
    first = ServiceProcess("sandbox", command, {}, tmp_path)
    first.start()
    try:
        first.wait_healthy(f"{url}/_sandbox/health", timeout=60)
        created = httpx.post(
            f"{url}/v1/customers", data={"email": "kept@example.com"}, headers=auth
        )
        assert created.status_code == 200, created.text
        customer_id = created.json()["id"]
    finally:
        first.stop()
    assert state.exists()
    second = ServiceProcess("sandbox-again", command, {}, tmp_path)
    second.start()
    try:
        second.wait_healthy(f"{url}/_sandbox/health", timeout=60)
        again = httpx.get(f"{url}/v1/customers/{customer_id}", headers=auth)
    finally:
        second.stop()
    assert again.status_code == 200, again.text
    assert again.json()["email"] == "kept@example.com"
