"""docker-compose.yml and deploy/Dockerfile hold the contract: `docker compose config`
when the plugin exists, and in any case a schema check of what the topology needs."""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lockfile
from billing_cli.nginx_conf import COMPOSE_VALUES
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
    assert set(SERVICES_OF) == {
        *SERVICES,
        *("postgres", "rabbitmq", "migrate", "sandbox", "gateway", "retention", "mailcatcher"),
    }
    assert SERVICES_OF["retention"]["command"] == ["prune", "--every", "86400"]
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
        if name not in ("migrate", "retention"):  # a one-off job and a timer: no server
            assert service["healthcheck"]["test"], name
    waits = SERVICES_OF["gateway"]["depends_on"]
    assert {name: waits[name]["condition"] for name in SERVICES} == dict.fromkeys(
        SERVICES, "service_healthy"
    )


def test_the_gateway_runs_the_config_rendered_for_compose() -> None:
    gateway = SERVICES_OF["gateway"]
    assert "./deploy/gateway/nginx.conf:/etc/nginx/nginx.conf:ro" in gateway["volumes"]
    for name, spec in SERVICES.items():  # the names the rendered config proxies to
        assert COMPOSE_VALUES[f"{name.upper()}_UPSTREAM"] == f"{name}:{spec.default_port}"


def test_every_image_is_pinned_by_tag_and_digest_and_rabbitmq_is_supported() -> None:
    images = [service["image"] for service in SERVICES_OF.values() if "build" not in service]
    images += re.findall(
        r"^(?:ARG PYTHON_IMAGE=|FROM )(\S+@\S+)",
        (ROOT / "deploy" / "Dockerfile").read_text(),
        re.M,
    )
    assert len(images) >= 5
    for image in images:
        assert re.fullmatch(r"[\w./-]+:[\w.-]*\d[\w.-]*@sha256:[0-9a-f]{64}", image), image
    rabbitmq = SERVICES_OF["rabbitmq"]["image"]
    assert re.match(r"rabbitmq:4\.", rabbitmq)  # 3.13 is past community support


def test_the_sandbox_is_its_own_image_and_reachable_from_this_machine_only() -> None:
    sandbox = SERVICES_OF["sandbox"]
    assert sandbox["build"]["target"] == "sandbox"
    assert sandbox["image"] != SERVICES_OF["checkout"]["image"]
    assert sandbox["ports"] == ["127.0.0.1:12111:12111"]
    published = [port for service in SERVICES_OF.values() for port in service.get("ports", [])]
    assert all(port.startswith("127.0.0.1:") for port in published if port != "8000:8000")


def test_the_sandbox_delivers_through_the_gateway_and_the_example_env_is_complete() -> None:
    command = " ".join(SERVICES_OF["sandbox"]["command"])
    assert "--webhook-url http://gateway:8000/api/webhooks/stripe" in command
    example = _env_example()
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    assert required <= {key for key, value in example.items() if value}


def test_the_dockerfile_builds_slim_images_from_the_locked_workspace() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 3  # uv, build, runtime
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11\.\d+-slim\S*@sha256:", dockerfile)
    assert re.search(r"FROM \$\{PYTHON_IMAGE\} AS runtime\n", dockerfile)
    assert dockerfile.rstrip().splitlines()[-1].startswith("CMD")  # runtime: the default
    assert 'uv sync --frozen --no-dev --package "${PACKAGE}"' in dockerfile
    runtime_build = dockerfile.split("FROM build AS build-sandbox")[0]
    for left_out in ("--no-install-package stripe-sandbox", "--no-install-package pgserver"):
        assert left_out in runtime_build
    assert "rm -rf tools/stripe_sandbox tools/cli/src/billing_cli/dev.py" in runtime_build
    members = [
        str(path.parent.relative_to(ROOT))
        for folder in ("libs", "services", "tools")  # the workspace members' globs
        for path in sorted((ROOT / folder).glob("*/pyproject.toml"))
    ]
    assert len(members) >= 7
    for member in members:  # a new workspace member must be copied for the cached layer
        assert f"COPY {member}/pyproject.toml {member}/" in dockerfile, member


@pytest.mark.parametrize("name", list(SERVICES))
def test_each_service_has_its_own_database_role_and_broker_user(name: str) -> None:
    """Issue 15 items 6 and 8: no shared or default credentials."""
    env = SERVICES_OF[name]["environment"]
    assert env["DATABASE_URL"].startswith(f"postgresql://billing_{name}:${{")
    assert env["AMQP_URL"].startswith(f"amqp://billing-{name}:${{")
    for part in ("migrate", "retention"):
        url = SERVICES_OF[part]["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql://billing_owner:${MIGRATE_DB_PASSWORD:?")
    postgres_mounts = " ".join(SERVICES_OF["postgres"]["volumes"])
    assert "./deploy/postgres/init-roles.sh:/docker-entrypoint-initdb.d/" in postgres_mounts
    assert "./deploy/postgres/roles.sql:/billing/roles.sql" in postgres_mounts
    rabbitmq = SERVICES_OF["rabbitmq"]
    assert "./deploy/rabbitmq/users.sh:/billing/users.sh" in " ".join(rabbitmq["volumes"])
    assert "billing-webhooks" in " ".join(rabbitmq["healthcheck"]["test"])
