"""deploy/k8s renders, validates strictly and passes the policy scan (issue 24)."""

from __future__ import annotations

from pathlib import Path

import k8s_generated
import k8s_manifests
import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lockfile
from conftest import Rendered

pytestmark = pytest.mark.unit

ROOT = k8s_manifests.ROOT


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_overlay_validates_strictly_with_no_error(rendered: Rendered, overlay: str) -> None:
    manifests = rendered[overlay]
    errors = [
        error for manifest in manifests for error in k8s_manifests.validation_errors(manifest)
    ]
    assert errors == []
    kinds = {manifest["kind"] for manifest in manifests}
    assert {"Deployment", "Cluster", "RabbitmqCluster", "PrometheusRule", "ExternalSecret"} <= kinds


@pytest.mark.parametrize("directory", ["secrets/plain", "secrets/external"])
def test_secret_forms_validate(kubectl: str, directory: str) -> None:
    manifests = k8s_manifests.render(kubectl, k8s_manifests.K8S / directory)
    assert manifests
    assert [e for m in manifests for e in k8s_manifests.validation_errors(m)] == []


def test_validation_refuses_a_misspelt_field(rendered: Rendered) -> None:
    """Strict: a field the schema does not know is an error, built-in or custom."""
    for kind in ("Deployment", "Cluster", "RabbitmqCluster", "ExternalSecret", "PodMonitor"):
        manifest = k8s_manifests.of_kind(rendered["production"], kind)[0]
        broken = {**manifest, "spec": {**manifest["spec"], "replcias": 3}}
        assert any("replcias" in error for error in k8s_manifests.validation_errors(broken))
    deployment = k8s_manifests.of_kind(rendered["production"], "Deployment")[0]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    wrong = {**container, "securityContext": {"runAsNonroot": True}}
    spec = {**deployment["spec"]["template"]["spec"], "containers": [wrong]}
    broken = {**deployment, "spec": {**deployment["spec"], "template": {"spec": spec}}}
    assert k8s_manifests.validation_errors(broken)


def test_an_unexplained_skip_is_found(tmp_path: Path) -> None:
    manifest = {
        "kind": "Deployment",
        "metadata": {"name": "x", "annotations": {"checkov.io/skip1": "CKV_K8S_43"}},
    }
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("# checkov:skip=CKV_DOCKER_2\nFROM python\n")
    assert len(k8s_manifests.unexplained_skips([manifest], dockerfile)) == 2


def test_copied_files_equal_their_source() -> None:
    """PrometheusRule from deploy/observability/alerts.yml, roles.sql from deploy/postgres:
    one source each (rewrite with python tests/deploy/k8s_generated.py)."""
    for path, text in k8s_generated.expected().items():
        assert path.read_text() == text, f"{path} is stale: python tests/deploy/k8s_generated.py"


def test_prometheus_rule_holds_every_alert(rendered: Rendered) -> None:
    (rule,) = k8s_manifests.of_kind(rendered["production"], "PrometheusRule")
    source = yaml.safe_load(k8s_generated.ALERTS.read_text())
    assert rule["spec"] == source


# What kustomize 2.0.3 (Debian 12's kubectl 1.20) reads; newer fields fail there.
KUSTOMIZE_2_FIELDS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "bases",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "images",
    "patchesStrategicMerge",
    "patchesJson6902",
    "commonAnnotations",
}


def test_kustomizations_keep_to_what_debians_kubectl_reads() -> None:
    for path in k8s_manifests.K8S.rglob("kustomization.yaml"):
        fields = set(yaml.safe_load(path.read_text()))
        assert fields <= KUSTOMIZE_2_FIELDS, f"{path}: {sorted(fields - KUSTOMIZE_2_FIELDS)}"
        for directory in yaml.safe_load(path.read_text()).get("resources", []):
            assert not (path.parent / directory).is_dir(), f"{path}: {directory} under bases"
