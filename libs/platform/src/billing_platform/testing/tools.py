"""Programs some tests need beside Python: one list, one install step, one skip line.

``make test`` and ``.ci/run`` both run ``python -m billing_platform.testing.tools
--install`` first: as root with apt it installs what is missing from Debian's
packages; otherwise it says, one line per program, what to install. A test that
needs a program calls :func:`require_tool`: it gets the program's path, or the
test is skipped with one line naming the package (and fails instead under
``CI=true``, so a green CI run never hides a suite it did not run).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from billing_platform.testing.backends import in_ci

SBIN = "/usr/sbin:/usr/local/sbin"


@dataclass(frozen=True, kw_only=True)
class Tool:
    name: str
    package: str  # Debian's package that brings it
    needed_for: str

    def path(self) -> str | None:
        return shutil.which(self.name) or shutil.which(self.name, path=SBIN)

    def missing_line(self) -> str:
        return (
            f"{self.name} is not installed ({self.needed_for}): "
            f"apt-get install {self.package}, or run `make test-tools` as root"
        )


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(name="chromium", package="chromium", needed_for="the browser tests of the pages"),
        Tool(name="nginx", package="nginx", needed_for="the gateway tests"),
        Tool(name="node", package="nodejs", needed_for="the pages' script unit tests"),
        Tool(name="promtool", package="prometheus", needed_for="the alert rules' unit tests"),
        # Debian's kubernetes-client; images that ship a newer kubectl (with kustomize 5)
        # keep theirs (deploy/k8s/README.md, "Checks").
        Tool(
            name="kubectl",
            package="kubernetes-client",
            needed_for="rendering deploy/k8s (kubectl kustomize)",
        ),
    )
}


@dataclass(frozen=True, kw_only=True)
class PythonTool:
    """A Python program with a dependency tree too large or too pinned for the project's
    lock (checkov pins dozens of packages): its own environment under ``.tools/``
    (``uv tool install``), pinned here, found at ``.tools/bin/NAME``."""

    name: str
    requirement: str
    needed_for: str

    def path(self) -> str | None:
        local = _tools_dir() / "bin" / self.name
        return str(local) if local.is_file() else shutil.which(self.name)

    def missing_line(self) -> str:
        return (
            f"{self.name} is not installed ({self.needed_for}): "
            f"run `make test-tools` (uv tool install {self.requirement} into .tools/)"
        )


PYTHON_TOOLS: dict[str, PythonTool] = {
    tool.name: tool
    for tool in (
        PythonTool(
            name="checkov",
            requirement="checkov==3.3.30",
            needed_for="the policy scan of deploy/k8s and deploy/Dockerfile",
        ),
    )
}


def _tools_dir() -> Path:
    """The repository's ``.tools/`` (where the Makefile keeps uv), found from here."""
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        if (base / "Makefile").is_file() and (base / "uv.lock").is_file():
            return base / ".tools"
    return Path.cwd() / ".tools"


def require_tool(name: str) -> str:
    """The program's path; else skip this test (fail it under ``CI=true``) in one line."""
    tool: Tool | PythonTool = TOOLS[name] if name in TOOLS else PYTHON_TOOLS[name]
    found = tool.path()
    if found is not None:
        return found
    if in_ci():
        pytest.fail(tool.missing_line() + "; CI=true requires it", pytrace=False)
    pytest.skip(tool.missing_line())


def _apt_get() -> str | None:
    """apt-get's path when this process may install packages with it (root)."""
    return shutil.which("apt-get") if os.geteuid() == 0 else None


def install_missing() -> list[Tool]:
    """Install what is missing when root with apt; return what is still missing."""
    missing = [tool for tool in TOOLS.values() if tool.path() is None]
    apt_get = _apt_get()
    if missing and apt_get is not None:
        packages = sorted({tool.package for tool in missing})
        print(f"installing {' '.join(packages)} (Debian packages) for the tests", flush=True)
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        update = subprocess.run([apt_get, "update", "-qq"], env=env, check=False)  # noqa: S603
        if update.returncode == 0:
            subprocess.run(  # noqa: S603 (fixed program, packages from TOOLS)
                [apt_get, "install", "-y", "-qq", "--no-install-recommends", *packages],
                env=env,
                check=False,
                stdout=subprocess.DEVNULL,
            )
        missing = [tool for tool in missing if tool.path() is None]
    return missing


def install_missing_python_tools() -> list[PythonTool]:
    """``uv tool install`` what is missing into ``.tools/``; return what is still missing."""
    missing = [tool for tool in PYTHON_TOOLS.values() if tool.path() is None]
    tools_dir = _tools_dir()
    uv = shutil.which("uv") or str(tools_dir / "bin" / "uv")
    for tool in missing:
        print(f"installing {tool.requirement} into {tools_dir} for the tests", flush=True)
        env = os.environ | {
            "UV_TOOL_DIR": str(tools_dir / "uv-tools"),
            "UV_TOOL_BIN_DIR": str(tools_dir / "bin"),
        }
        subprocess.run(  # noqa: S603 (uv, requirement pinned in PYTHON_TOOLS)
            [uv, "tool", "install", "--quiet", "--python", sys.executable, tool.requirement],
            env=env,
            check=False,
        )
    return [tool for tool in missing if tool.path() is None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="install what is missing")
    args = parser.parse_args(argv)
    missing: list[Tool | PythonTool] = []
    if args.install:
        missing += install_missing()
        missing += install_missing_python_tools()
    else:
        every: list[Tool | PythonTool] = [*TOOLS.values(), *PYTHON_TOOLS.values()]
        missing += [tool for tool in every if not tool.path()]
    for tool in missing:
        print(f"test tools: {tool.missing_line()}; its tests will be skipped", flush=True)
    if not missing:
        print("test tools: " + ", ".join(sorted([*TOOLS, *PYTHON_TOOLS])) + " present")
    return 1 if missing and in_ci() else 0


if __name__ == "__main__":
    sys.exit(main())
