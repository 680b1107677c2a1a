"""The image of deploy/Dockerfile runs as a non-root user on a read-only filesystem.

No container engine here (CI has none), so the test does what the image does, the
same way: the tree the Dockerfile's build stage installs (our code without tests, the
sandbox and the dev server; ``uv sync --frozen --no-dev --package billing-cli``, bytecode
compiled at install), owned by root and made read-only, then ``billing migrate`` and
``billing serve <service>`` run from it as ``nobody`` (setpriv: another uid and gid, no
groups, no new privileges) with an environment of its own and no HOME, as the
Kubernetes manifests run them (runAsNonRoot, readOnlyRootFilesystem, a writable /tmp),
until /healthz and /readyz answer 200.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from billing_cli.services import SERVICES
from billing_platform.testing.backends import in_ci
from billing_platform.testing.plugin import throwaway_database
from billing_platform.testing.processes import ServiceProcess, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs"]
# What the Dockerfile deletes after copying libs, services and tools (and its
# .dockerignore leaves out: tests, caches).
NOT_IN_IMAGE = (
    "tools/stripe_sandbox",
    "tools/cli/src/billing_cli/dev.py",
    "tools/cli/src/billing_cli/dev_web.py",
    "tools/cli/src/billing_cli/dev_sign_in",
)
# The image's interpreter is /usr/local/bin/python3.11 (python:3.11-slim); here a Python
# every user may run (the test runner's may sit under root's home).
SYSTEM_PYTHON = "/usr/bin/python3.11"


def _uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).is_file(), "uv not found (make sync installs it into .tools/)"
    return found


@pytest.fixture(scope="module")
def image_tree() -> Iterator[Path]:
    """/app as the runtime image has it, read-only; yields its path."""
    if os.geteuid() != 0 or not shutil.which("setpriv") or not Path(SYSTEM_PYTHON).is_file():
        why = f"needs root, setpriv (util-linux) and {SYSTEM_PYTHON} to switch users"
        if in_ci():
            pytest.fail(why + "; CI=true requires it", pytrace=False)
        pytest.skip(why)
    top = Path(tempfile.mkdtemp(prefix="billing-image-"))
    top.chmod(0o755)
    app = top / "app"
    app.mkdir()
    try:
        for name in ("pyproject.toml", "uv.lock"):
            shutil.copy2(ROOT / name, app / name)
        ignore = shutil.ignore_patterns("tests", "__pycache__", ".*_cache", "*.pyc")
        for part in ("libs", "services", "tools"):
            shutil.copytree(ROOT / part, app / part, ignore=ignore)
        for gone in NOT_IN_IMAGE:
            target = app / gone
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        env = os.environ | {
            "UV_COMPILE_BYTECODE": "1",
            "UV_LINK_MODE": "copy",
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_PROJECT_ENVIRONMENT": str(app / ".venv"),
        }
        env.pop("VIRTUAL_ENV", None)
        subprocess.run(
            [_uv(), "sync", "--quiet", "--frozen", "--no-dev", "--package", "billing-cli",
             "--no-install-package", "stripe-sandbox", "--no-install-package", "pgserver",
             "--python", SYSTEM_PYTHON],
            cwd=app, env=env, check=True, timeout=300,
        )  # fmt: skip
        subprocess.run(["chmod", "-R", "a-w", str(app)], check=True)
        yield app
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(top)], check=False)
        shutil.rmtree(top, ignore_errors=True)


def as_nobody(app: Path, env: dict[str, str], *args: str) -> list[str]:
    """setpriv ... env -i VAR=... billing ARGS: nothing of the caller's environment."""
    base = {"PATH": f"{app}/.venv/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    assignments = [f"{key}={value}" for key, value in {**base, **env}.items()]
    return ["setpriv", *NOBODY, "env", "-i", *assignments, "billing", *args]


def serve_env(database_url: str, amqp_url: str, exchange: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "AMQP_URL": amqp_url,
        "BILLING_EXCHANGE": exchange,
        "LOG_FORMAT": "json",
        "JWT_SECRET": secrets.token_hex(32),
        "JWT_AUDIENCE": "billing",
        "JWT_ISSUER": "https://id.test",
        "STRIPE_API_KEY": f"rk_test_{secrets.token_hex(12)}",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(24)}",
    }


@pytest.fixture(scope="module")
async def migrated(image_tree: Path, postgres_server_url: str) -> AsyncIterator[str]:
    """A database migrated by `billing migrate` run from the read-only tree as nobody."""
    async with throwaway_database(postgres_server_url, "billing_image") as url:
        process = await asyncio.create_subprocess_exec(
            *as_nobody(image_tree, {"DATABASE_URL": url}, "migrate"),
            cwd=image_tree,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, stderr.decode()[-3000:]
        assert stdout.decode().count("migrated to head") == len(SERVICES)
        yield url


def test_the_tree_is_read_only_to_the_process(image_tree: Path) -> None:
    probe = "open('/proc/self/cwd/pyproject.toml', 'a')"
    command = ["setpriv", *NOBODY, f"{image_tree}/.venv/bin/python", "-c", probe]
    result = subprocess.run(command, cwd=image_tree, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "PermissionError" in result.stderr
    assert not list(image_tree.rglob("billing_cli/dev.py"))  # the dev server is not there


def test_billing_serve_runs_as_nobody_read_only(
    image_tree: Path, migrated: str, amqp_url: str, exchange_name: str, tmp_path: Path
) -> None:
    """Every service at once (they start in parallel: the test stays short)."""
    env = serve_env(migrated, amqp_url, exchange_name)
    running: dict[str, tuple[ServiceProcess, int]] = {}
    try:
        for service in sorted(SERVICES):
            port = free_port()
            serve = ("serve", service, "--host", "127.0.0.1", "--port", str(port))
            process = ServiceProcess(service, as_nobody(image_tree, env, *serve), {}, tmp_path)
            process.start()
            running[service] = (process, port)
        for service, (process, port) in running.items():
            process.wait_healthy(f"http://127.0.0.1:{port}/healthz", timeout=90)
            process.wait_healthy(f"http://127.0.0.1:{port}/readyz", timeout=60)
            assert process.process is not None
            # setpriv and env exec in place: this pid is billing, running as nobody.
            assert Path(f"/proc/{process.process.pid}").stat().st_uid == 65534, service
    finally:
        for process, _ in running.values():
            process.stop()
