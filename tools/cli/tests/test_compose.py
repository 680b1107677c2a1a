"""docker-compose.yml and deploy/Dockerfile hold the contract: `docker compose config`
when the plugin exists, and in any case a schema check of what the topology needs."""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from billing_cli.nginx_conf import VARIABLES
from billing_cli.services import SERVICES
from billing_platform.settings import BillingSettings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES_OF = COMPOSE["services"]
CONTRACT_ENV = {
    "DATABASE_URL",
    "AMQP_URL",
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_PRICE_SOLO",
    "STRIPE_PRICE_TEAM",
    "STRIPE_PRICE_ENTERPRISE",
    "TEAM_TRIAL_DAYS",
    "JWT_SECRET",
    "APP_BASE_URL",
    "LOG_LEVEL",
    "LOG_FORMAT",
}


def _env_example() -> dict[str, str]:
    lines = (ROOT / "deploy" / "env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return dict(pairs)


def test_docker_compose_config_accepts_it() -> None:
    docker = shutil.which("docker")
    plugin = docker and subprocess.run([docker, "compose", "version"], capture_output=True)
    if not plugin or plugin.returncode != 0:
        pytest.skip("no docker compose plugin here: the schema checks below stand in")
    result = subprocess.run(
        [docker, "compose", "--profile", "sandbox", "config", "-q"],  # type: ignore[list-item]
        cwd=ROOT,
        env={**os.environ, **_env_example()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_topology_has_its_parts() -> None:
    assert set(SERVICES_OF) == {*SERVICES, "postgres", "rabbitmq", "migrate", "sandbox", "gateway"}
    assert "management" in SERVICES_OF["rabbitmq"]["image"]
    assert SERVICES_OF["sandbox"]["profiles"] == ["sandbox"]
    assert "8000:8000" in SERVICES_OF["gateway"]["ports"]
    assert SERVICES_OF["migrate"]["command"] == ["migrate"]
    assert SERVICES_OF["migrate"]["restart"] == "no"


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_service_serves_after_migrations_with_the_contract_env(name: str) -> None:
    service = SERVICES_OF[name]
    assert service["command"] == ["serve", name, "--host", "0.0.0.0"]
    depends = service["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["postgres"]["condition"] == depends["rabbitmq"]["condition"] == "service_healthy"
    assert depends["sandbox"]["required"] is False  # only with --profile sandbox
    env = service["environment"]
    assert set(env) >= CONTRACT_ENV
    assert {key.lower() for key in env} <= set(BillingSettings.model_fields)  # no typos
    port = str(SERVICES[name].default_port)
    assert port in service["expose"]
    assert f"127.0.0.1:{port}/readyz" in " ".join(service["healthcheck"]["test"])


def test_every_long_running_part_has_a_healthcheck_and_the_gateway_waits() -> None:
    for name, service in SERVICES_OF.items():
        if name != "migrate":
            assert service["healthcheck"]["test"], name
    waits = SERVICES_OF["gateway"]["depends_on"]
    assert {name: waits[name]["condition"] for name in SERVICES} == dict.fromkeys(
        SERVICES, "service_healthy"
    )


def test_the_gateway_renders_the_template_with_every_variable() -> None:
    gateway = SERVICES_OF["gateway"]
    assert set(VARIABLES) <= set(gateway["environment"])
    assert gateway["environment"]["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"
    mounts = " ".join(gateway["volumes"])
    assert "./deploy/gateway/nginx.conf.template:/etc/nginx/templates/nginx.conf.template" in mounts
    for name, spec in SERVICES.items():
        upstream = gateway["environment"][f"{name.upper()}_UPSTREAM"]
        assert upstream == f"{name}:{spec.default_port}"


def test_the_sandbox_delivers_through_the_gateway_and_the_example_env_is_complete() -> None:
    command = " ".join(SERVICES_OF["sandbox"]["command"])
    assert "--webhook-url http://gateway:8000/api/webhooks/stripe" in command
    example = _env_example()
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    assert required <= {key for key, value in example.items() if value}


def test_the_dockerfile_builds_slim_images_from_the_locked_workspace() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 3  # uv, build, runtime
    assert re.search(r"FROM python:\$\{PYTHON_VERSION\}-slim\S* AS runtime", dockerfile)
    assert 'uv sync --frozen --no-dev --package "${PACKAGE}"' in dockerfile
    members = [
        str(path.parent.relative_to(ROOT))
        for folder in ("libs", "services", "tools")  # the workspace members' globs
        for path in sorted((ROOT / folder).glob("*/pyproject.toml"))
    ]
    assert len(members) >= 7
    for member in members:  # a new workspace member must be copied for the cached layer
        assert f"COPY {member}/pyproject.toml {member}/" in dockerfile, member
