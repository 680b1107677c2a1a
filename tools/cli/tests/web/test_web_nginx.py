"""The pages through the production gateway: nginx rendered from deploy/gateway, serving
web/ and proxying the API (to ``billing dev``, which answers every service's paths)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from billing_cli.nginx_conf import render, template_path
from billing_cli.web import WEB_ROOT
from billing_platform.http.tokens import mint_token
from billing_platform.testing.processes import free_port
from billing_platform.testing.tools import require_tool
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _nginx() -> str:
    return require_tool("nginx")


@pytest.fixture(scope="module")
def gateway(
    start_billing_dev: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Any]]:
    nginx = _nginx()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dev = start_billing_dev(app_base_url=base)  # Checkout returns through the gateway
    upstream = dev.base.removeprefix("http://")
    state = tmp_path_factory.mktemp("nginx")
    conf = state / "nginx.conf"
    values = {
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "GATEWAY_STATE_DIR": str(state),
        "WEB_ROOT": str(WEB_ROOT),
        "CHECKOUT_UPSTREAM": upstream,
        "SUBSCRIPTIONS_UPSTREAM": upstream,
        "WEBHOOKS_UPSTREAM": upstream,
        "ANALYTICS_UPSTREAM": upstream,
    }
    conf.write_text(render(template_path().read_text(), values))
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    log = (state / "nginx.log").open("wb")
    process = subprocess.Popen(
        [nginx, "-p", f"{state}/", "-c", str(conf), "-e", "stderr", "-g", directives],
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (state / "nginx.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.2)
        yield base, dev
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def gateway_page(browser: Browser, gateway: tuple[str, Any]) -> Iterator[Page]:
    """A tab on the gateway, signed in the way the host product would: a token it minted."""
    base, dev = gateway
    token = mint_token(dev.jwt_secret(), tenant_id=f"tenant_nginx_{uuid.uuid4().hex[:8]}")
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    context.add_init_script(
        f"if (location.origin === {json.dumps(base)}) "
        f"sessionStorage.setItem('billing.token', {json.dumps(token)});"
    )
    yield context.new_page()
    context.close()


def test_trial_journey_through_the_nginx_gateway(
    gateway_page: Page, gateway: tuple[str, Any], screenshot: Callable[[Page], Path]
) -> None:
    page = gateway_page
    base, _ = gateway
    served = httpx.get(f"{base}/pricing")
    assert "script-src 'self'" in served.headers["content-security-policy"]
    assert httpx.get(f"{base}/dev/sign-in").status_code == 404  # never in production
    favicon = httpx.get(f"{base}/favicon.svg")
    assert (favicon.status_code, favicon.headers["content-type"]) == (200, "image/svg+xml")

    page.goto("/pricing")
    expect(page.locator("article.plan-card")).to_have_count(4)
    page.locator("article[data-plan='team']").get_by_role("button", name="Start trial").click()
    expect(page).to_have_title("Sandbox Checkout")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(f"{base}/settings*")
    expect(page.locator(".toast-success")).to_contain_text("Your Team trial has started")
    expect(page).to_have_url(f"{base}/settings")
    expect(page.locator(".badge[data-status='trialing']")).to_have_text("Trial")
    page.get_by_role("link", name="All billing settings").click()
    expect(page).to_have_url(f"{base}/settings/billing")
    expect(page.get_by_test_id("plan-name")).to_have_text("Team")
    screenshot(page)
