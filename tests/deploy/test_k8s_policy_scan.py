"""The policy scan of deploy/k8s and deploy/Dockerfile (issue 24): checkov is a tool that
`make test-tools` installs into this checkout's .tools/, so the scan is in the full suite,
not in the unit lane (a fresh clone runs the unit lane before any tool is installed)."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import k8s_manifests
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lockfile
from billing_platform.testing.tools import require_tool
from conftest import Rendered

ROOT = k8s_manifests.ROOT


def test_checkov_finds_nothing_unexplained(rendered: Rendered, tmp_path: Path) -> None:
    """The rendered overlays, the plain Secrets and deploy/Dockerfile, in one checkov run
    (it takes seconds to start), beside a canary: checkout's Deployment with a writable
    root filesystem, which must be the one finding (the scan is live)."""
    checkov = require_tool("checkov")
    plain = k8s_manifests.render(require_tool("kubectl"), k8s_manifests.K8S / "secrets/plain")
    every = {**rendered, "secrets-plain": plain}
    for name, manifests in every.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump_all(manifests))
    dockerfile = ROOT / "deploy" / "Dockerfile"
    shutil.copy(dockerfile, tmp_path / "Dockerfile")
    canary = copy.deepcopy(
        k8s_manifests.by_name(rendered["production"], "Deployment")["billing-checkout"]
    )
    canary["metadata"]["name"] = "canary"
    canary["spec"]["template"]["spec"]["containers"][0]["securityContext"][
        "readOnlyRootFilesystem"
    ] = False
    (tmp_path / "canary.yaml").write_text(yaml.safe_dump(canary))
    failures = k8s_manifests.checkov_failures(checkov, tmp_path, "kubernetes", "dockerfile")
    assert [failure.split(":")[0] for failure in failures] == [
        "CKV_K8S_22 Deployment.billing.canary"
    ]
    skipped = [manifest for manifests in every.values() for manifest in manifests]
    assert k8s_manifests.unexplained_skips(skipped, dockerfile) == []
