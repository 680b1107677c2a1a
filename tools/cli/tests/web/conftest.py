"""Browser tests of the web pages: ``billing dev`` in a subprocess, Debian's chromium.

One ``billing dev`` serves the whole module run (each test signs in to its own
fresh tenant); each test gets its own browser context. Screenshots of every
test's final page go to ``.artifacts/screenshots/`` (gitignored) for review.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest
from billing_cli.testing.dev_server import DevServer
from billing_platform.testing.processes import free_port
from billing_platform.testing.tools import require_tool
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[4]
SCREENSHOTS = ROOT / ".artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _wait_ready(
    base: str, process: subprocess.Popen[str], workdir: Path, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = (workdir / "billing-dev.log").read_text(errors="replace")[-4000:]
            raise AssertionError(f"billing dev exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("billing dev did not become ready")


@pytest.fixture(scope="session")
def start_billing_dev(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., DevServer]]:
    """Start ``billing dev`` (own state dir, free ports); stopped at the end of the run."""
    started: list[tuple[subprocess.Popen[str], IO[str]]] = []

    def start(*, port: int | None = None, app_base_url: str | None = None) -> DevServer:
        workdir = tmp_path_factory.mktemp("billing-dev-web")
        port = port or free_port()
        sandbox_port = free_port()
        base = f"http://127.0.0.1:{port}"
        unset = {"DATABASE_URL", "AMQP_URL", "STRIPE_API_KEY", "STRIPE_API_BASE", "JWT_PUBLIC_KEY"}
        env = {k: v for k, v in os.environ.items() if k not in unset}
        env.update(LOG_FORMAT="console", LOG_LEVEL="WARNING", APP_BASE_URL=app_base_url or base)
        billing = Path(sys.executable).parent / "billing"
        log = (workdir / "billing-dev.log").open("w")
        process = subprocess.Popen(
            [str(billing), "dev", "--port", str(port), "--sandbox-port", str(sandbox_port)],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append((process, log))
        _wait_ready(base, process, workdir)
        return DevServer(base=base, sandbox=f"http://127.0.0.1:{sandbox_port}", workdir=workdir)

    yield start
    for process, log in started:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def billing_dev(start_billing_dev: Callable[..., DevServer]) -> DevServer:
    return start_billing_dev()


# Module scope, not session: Playwright's sync API keeps an event loop running in this
# thread while it is open, and the asyncio tests that run after these must not find one.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = require_tool("chromium")
    launched = playwright_driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(
    browser: Browser, billing_dev: DevServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    context = browser.new_context(
        base_url=billing_dev.base, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    opened = context.new_page()
    yield opened
    if request.node.stash.get(FAILED, False):  # what the page showed when it failed
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for number, tab in enumerate(context.pages):
            tab.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}-{number}.png"))
    context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page], Path]:
    """Save the page as ``.artifacts/screenshots/<test name>.png``."""

    def save(page: Page) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def sign_in() -> Callable[..., str]:
    """Sign in through the dev sign-in page, by clicking; returns the tenant id."""

    def run(
        page: Page,
        role: str = "owner",
        tenant: str | None = None,
        next_path: str = "",
        name: str | None = None,
    ) -> str:
        tenant_id = tenant or f"tenant_web_{uuid.uuid4().hex[:10]}"
        page.goto("/dev/sign-in" + (f"?next={next_path}" if next_path else ""))
        page.get_by_label("Account (tenant id)").fill(tenant_id)
        shown = name if name is not None else f"Acme {tenant_id[-6:]}"
        page.get_by_label("Account name (optional)").fill(shown)
        page.get_by_role("radio", name=role.capitalize()).check()
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/dev/sign-in" not in url)
        if shown:
            expect(page.locator(".who")).to_contain_text(shown)
        return tenant_id

    return run


@pytest.fixture
def subscribe() -> Callable[..., None]:
    """From /pricing, buy ``plan`` by clicking through the sandbox's checkout page."""

    def run(page: Page, plan: str, button: str = "Upgrade", card: str = "4242424242424242") -> None:
        page.goto("/pricing")
        card_of_plan = page.locator(f"article[data-plan='{plan}']")
        card_of_plan.get_by_role("button", name=button).click()
        expect(page).to_have_title("Sandbox Checkout")
        page.get_by_label("Card number").fill(card)
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_url("**/settings*")
        expect(page.locator(".toast-success")).to_be_visible()
        expect(page.get_by_test_id("plan-name")).to_have_text(plan.capitalize())
        expect(page.locator(".badge[data-status='incomplete']")).to_have_count(0)

    return run
