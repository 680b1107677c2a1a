"""``billing serve`` never runs a service on the in-memory bus: without ``AMQP_URL`` it
refuses to start (the real command, in a process of its own)."""

import os
import subprocess

import pytest
from billing_platform.testing.processes import billing_command
from billing_platform.testing.serve_tokens import serve_jwt_env

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["checkout", "subscriptions", "webhooks"])
def test_serve_without_amqp_url_refuses_to_start_and_says_why(
    service: str, database_url: str
) -> None:
    env = {
        **os.environ,
        **serve_jwt_env("serve-needs-broker-jwt-secret-5f1c9a"),  # every other check passes
        "DATABASE_URL": database_url,
        "AMQP_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        billing_command("serve", service, "--port", "1"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "AMQP_URL is not set: billing serve needs RabbitMQ" in result.stderr
    assert "in-memory bus is for billing dev and tests only" in result.stderr
    assert "Uvicorn running" not in result.stderr
