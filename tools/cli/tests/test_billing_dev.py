"""``billing dev`` as a new user runs it: no DATABASE_URL, no AMQP_URL."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from billing_platform.testing.processes import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _wait_healthy(base: str, process: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"billing dev exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("billing dev did not become ready")


def _start(workdir: Path, port: int, sandbox_port: int) -> subprocess.Popen[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "AMQP_URL", "STRIPE_API_KEY", "STRIPE_API_BASE"}
    }
    env["LOG_FORMAT"] = "console"
    billing = Path(sys.executable).parent / "billing"
    return subprocess.Popen(
        [str(billing), "dev", "--port", str(port), "--sandbox-port", str(sandbox_port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output


def test_billing_dev_starts_on_embedded_defaults_and_restarts_on_the_same_data(
    tmp_path: Path,
) -> None:
    port, sandbox_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(tmp_path, port, sandbox_port)
    try:
        _wait_healthy(base, process)
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{base}/readyz").json()
        assert ready["checks"] == {
            "checkout": "ok",
            "subscriptions": "ok",
            "webhooks": "ok",
            "analytics": "ok",
            "notifications": "ok",
            "mail": "ok",  # the embedded SMTP catcher
        }
        assert "billing_http_requests_total" in httpx.get(f"{base}/metrics").text
        unknown = httpx.get(f"{base}/api/billing/nope")  # the API's error shape, not a page's
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "not_found"
        assert httpx.get(f"{base}/pricing").status_code == 200  # pages still served
        prices = httpx.get(
            f"http://127.0.0.1:{sandbox_port}/v1/prices",
            headers={"Authorization": "Bearer sk_test_x"},
        )
        assert prices.status_code == 200  # the Stripe sandbox runs beside it
    finally:
        output = _stop(process)
    assert process.returncode == 0, output
    assert "owner token (tenant_demo" in output
    assert "member token (tenant_demo" in output
    assert "webhook secret: whsec_" in output
    assert f"stripe:   http://127.0.0.1:{sandbox_port}" in output
    assert "curl -s -X POST" in output
    assert (tmp_path / ".billing" / "postgres" / "PG_VERSION").exists()

    again = _start(tmp_path, port, sandbox_port)
    try:
        _wait_healthy(base, again)
    finally:
        second_output = _stop(again)
    assert "Initializing pgdata" not in second_output
    assert output.split("webhook secret: ")[1].split()[0] in second_output


def _token(output: str, role: str) -> str:
    line = next(line for line in output.splitlines() if f"{role} token (tenant_demo" in line)
    return line.rsplit(" ", 1)[1]


def _read_until_banner(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Ctrl-C stops everything"):
            return "".join(lines)
    raise AssertionError("billing dev exited before printing its banner:\n" + "".join(lines))


def test_a_new_user_journey_on_billing_dev(tmp_path: Path) -> None:
    """The README walkthrough: checkout with a trial, pay on the sandbox page, verify,
    read the subscription, cancel, resume, preview an upgrade."""
    port, sandbox_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(tmp_path, port, sandbox_port)
    try:
        banner = _read_until_banner(process)
        _wait_healthy(base, process)
        owner = {"Authorization": f"Bearer {_token(banner, 'owner')}"}
        member = {"Authorization": f"Bearer {_token(banner, 'member')}"}
        with httpx.Client(base_url=base, timeout=20) as api:
            assert (
                api.get("/api/billing/subscription", headers=member).json()["plan_type"] == "free"
            )
            started = api.post(
                "/api/billing/checkout", headers=owner, json={"plan": "team", "trial": True}
            )
            assert started.status_code == 200, started.text
            session_id = started.json()["session_id"]
            paid = httpx.post(
                f"http://127.0.0.1:{sandbox_port}/checkout/{session_id}/pay",
                data={"card": "4242424242424242"},
            )
            assert paid.status_code == 303
            assert paid.headers["location"].startswith(f"{base}/settings?success=true")
            verified = api.post(
                "/api/billing/verify-session", headers=member, json={"session_id": session_id}
            )
            assert verified.json() == {
                "verified": True,
                "status": "complete",
                "payment_status": "no_payment_required",
                "plan": "team",
                "trial": True,
                "mode": "subscription",
                "payment_method": None,
                "made_default": False,
            }
            deadline = time.monotonic() + 20
            state = api.get("/api/billing/subscription", headers=member).json()
            while state["status"] != "trialing" and time.monotonic() < deadline:
                time.sleep(0.2)
                state = api.get("/api/billing/subscription", headers=member).json()
            assert (state["plan_type"], state["status_label"]) == ("team", "Trial")

            assert api.delete("/api/billing/subscription", headers=member).status_code == 403
            canceled = api.delete("/api/billing/subscription", headers=owner)
            assert canceled.status_code == 200, canceled.text
            assert canceled.json()["cancel_at_period_end"] is True
            resumed = api.post("/api/billing/subscription/resume", headers=owner)
            assert resumed.status_code == 200, resumed.text
            assert resumed.json()["cancel_at_period_end"] is False
            preview = api.post("/api/billing/proration", headers=owner, json={"plan": "enterprise"})
            assert preview.status_code == 200, preview.text
            assert set(preview.json()) >= {
                "proration_amount",
                "next_invoice_amount",
                "currency",
                "proration_date",
            }
    finally:
        _stop(process)
