"""The real topology on this machine: ``billing serve`` x4 and a real nginx rendered from
deploy/gateway/nginx.conf.template, against the machine's Postgres and RabbitMQ; a
checkout-to-active journey through the gateway, the sandbox delivering its webhooks
through the gateway too."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from billing_cli.nginx_conf import render, template_path
from billing_cli.web import WEB_ROOT
from billing_platform.testing.processes import free_port
from billing_platform.testing.serve_tokens import mint_serve_token, serve_jwt_env
from billing_platform.testing.tools import require_tool

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]

JWT_SECRET = "topology-secret-topology-secret-0123"
WEBHOOK_SECRET = "whsec_topology_0123456789abcdef"
STRIPE_KEY = "sk_test_topology"
LOOKUP_KEYS = {"solo": "solo_monthly", "team": "team_monthly", "enterprise": "enterprise_monthly"}
JSON_BODY = {"Content-Type": "application/json"}
BILLING = str(Path(sys.executable).parent / "billing")


def _nginx() -> str:
    return require_tool("nginx")


class Processes:
    """Child processes with their output in log files, stopped (and shown) at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.running[name] = subprocess.Popen(args, env=env, stdout=log, stderr=log)

    def wait_ok(self, name: str, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running[name].poll() is not None:
                raise AssertionError(f"{name} exited:\n{self.output(name)}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{name} not ready at {url}:\n{self.output(name)}")

    def output(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
        for name in running.running:
            sys.stderr.write(f"\n----- {name} -----\n{running.output(name)}\n")


def _sandbox_prices(url: str) -> dict[str, str]:
    prices = httpx.get(
        f"{url}/v1/prices",
        params=[("lookup_keys[]", key) for key in LOOKUP_KEYS.values()],
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
    ).json()["data"]
    by_key = {price["lookup_key"]: price["id"] for price in prices}
    return {f"STRIPE_PRICE_{plan.upper()}": by_key[key] for plan, key in LOOKUP_KEYS.items()}


def _start_gateway(processes: Processes, tmp_path: Path, ports: dict[str, int]) -> str:
    nginx = _nginx()
    state = tmp_path / "gateway"
    state.mkdir()
    conf = state / "nginx.conf"
    values = {
        "GATEWAY_LISTEN": f"127.0.0.1:{ports['gateway']}",
        "GATEWAY_STATE_DIR": str(state),
        "WEB_ROOT": str(WEB_ROOT),
        **{f"{name.upper()}_UPSTREAM": f"127.0.0.1:{ports[name]}" for name in SERVICE_NAMES},
    }
    conf.write_text(render(template_path().read_text(), values))
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    args = [nginx, "-p", f"{state}/", "-c", str(conf), "-e", "stderr", "-g", directives]
    processes.start("nginx", args, dict(os.environ))
    base = f"http://127.0.0.1:{ports['gateway']}"
    processes.wait_ok("nginx", f"{base}/healthz")
    return base


SERVICE_NAMES = ("checkout", "subscriptions", "webhooks", "analytics")


@pytest.fixture
def topology(
    processes: Processes, tmp_path: Path, database_url: str, amqp_url: str, exchange_name: str
) -> dict[str, str]:
    ports = {name: free_port() for name in (*SERVICE_NAMES, "sandbox", "gateway")}
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_FORMAT": "console"}
    sandbox = f"http://127.0.0.1:{ports['sandbox']}"
    processes.start("sandbox", [BILLING, "serve", "sandbox", "--port", str(ports["sandbox"])], env)
    migrated = subprocess.run([BILLING, "migrate"], env=env, capture_output=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr.decode()
    processes.wait_ok("sandbox", f"{sandbox}/_sandbox/webhooks", timeout=30)
    gateway = _start_gateway(processes, tmp_path, ports)
    hook = httpx.post(
        f"{sandbox}/_sandbox/webhooks",
        json={"url": f"{gateway}/api/webhooks/stripe", "secret": WEBHOOK_SECRET},
    )
    assert hook.status_code == 200, hook.text

    env |= {
        "AMQP_URL": amqp_url,
        "BILLING_EXCHANGE": exchange_name,
        **serve_jwt_env(JWT_SECRET),
        "STRIPE_API_KEY": STRIPE_KEY,
        "STRIPE_API_BASE": sandbox,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "APP_BASE_URL": gateway,
        **_sandbox_prices(sandbox),
    }
    for name in SERVICE_NAMES:
        processes.start(name, [BILLING, "serve", name, "--port", str(ports[name])], env)
    for name in SERVICE_NAMES:
        processes.wait_ok(name, f"http://127.0.0.1:{ports[name]}/readyz", timeout=90)
    return {"gateway": gateway, "sandbox": sandbox}


def _poll(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    last = fetch()
    while not done(last) and time.monotonic() < deadline:
        time.sleep(0.3)
        last = fetch()
    return last


def test_checkout_to_active_with_stripe_webhooks_through_nginx(topology: dict[str, str]) -> None:
    gateway, sandbox = topology["gateway"], topology["sandbox"]
    tenant = f"tenant_{os.urandom(4).hex()}"
    owner = {"Authorization": f"Bearer {mint_serve_token(JWT_SECRET, tenant_id=tenant)}"}
    client = httpx.Client(base_url=gateway, headers=owner, timeout=30)

    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/").text == (WEB_ROOT / "index.html").read_text()
    assert client.get("/settings/billing").text == (WEB_ROOT / "billing.html").read_text()
    assert client.get("/api/nowhere").status_code == 404
    too_big = httpx.post(f"{gateway}/api/webhooks/stripe", content=b"x" * (2 * 1024 * 1024))
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "payload_too_large"
    unsigned = client.post("/api/webhooks/stripe", content=b"{}", headers=JSON_BODY)
    assert unsigned.status_code == 400  # reached the service, which checks the signature
    plans = client.get("/api/billing/plans", headers={"X-Request-ID": "topology-req-1"})
    assert plans.status_code == 200, plans.text
    assert plans.headers["x-request-id"] == "topology-req-1"
    # the public catalogue keeps the service's own caching through nginx (not no-store)
    assert plans.headers["cache-control"] == "public, max-age=300"
    assert plans.headers["etag"]
    assert plans.headers["strict-transport-security"].startswith("max-age=")
    assert client.get("/README.md").status_code == 404  # web/'s other files are not served
    assert len(client.get("/api/billing/plans").headers["x-request-id"]) == 32  # generated
    hostile = client.get("/api/billing/plans", headers={"X-Request-ID": "a b;<x>"})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])  # replaced

    created = client.post("/api/billing/checkout", json={"plan": "solo"})
    assert created.status_code == 200, created.text
    session_id = created.json()["session_id"]
    paid = httpx.post(
        f"{sandbox}/checkout/{session_id}/pay", data={"card": "4242424242424242"}, timeout=30
    )
    assert paid.status_code == 303, paid.text

    verified = client.post("/api/billing/verify-session", json={"session_id": session_id})
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True
    assert verified.json()["plan"] == "solo"

    subscription = _poll(
        lambda: client.get("/api/billing/subscription").json(),
        lambda body: body.get("status") == "active" and body.get("plan_type") == "solo",
    )
    assert subscription["tenant_id"] == tenant
    assert (subscription["plan_type"], subscription["status"]) == ("solo", "active")

    admin = mint_serve_token(JWT_SECRET, tenant_id=tenant, scopes=["billing:admin"])
    events = client.get("/api/webhooks/events", headers={"Authorization": f"Bearer {admin}"})
    assert events.status_code == 200, events.text
    received = {event["event_type"] for event in events.json()["events"]}
    assert "checkout.session.completed" in received  # delivered by the sandbox via nginx
