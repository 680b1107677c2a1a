"""deploy/k8s rendered and checked without a cluster (deploy/k8s/README.md, "Checks").

- ``render``: ``kubectl kustomize DIR`` -> the objects, as dicts;
- ``validation_errors``: every object strictly against the Kubernetes schemas of
  ``KUBERNETES_VERSION`` (kubernetes-validate's ``-strict`` schemas: an unknown field is
  an error), custom resources against the operators' schemas vendored in
  deploy/k8s/crds (k8s_crds); an object with no schema is an error too;
- ``checkov_failures``: checkov's failed checks on rendered manifests or a Dockerfile;
  a check skipped by an annotation (``checkov.io/skipN: CHECK=why``) or a Dockerfile
  comment (``# checkov:skip=CHECK: why``) must say why (``unexplained_skips``).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import k8s_crds
import kubernetes_validate  # type: ignore[import-untyped]  # ships no py.typed
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lockfile
from kubernetes_validate.utils import SchemaNotFoundError  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("staging", "production")
# The Kubernetes version the manifests are written for (the oldest one they must run on).
KUBERNETES_VERSION = "1.32"

Manifest = dict[str, Any]


def render(kubectl: str, directory: Path) -> list[Manifest]:
    result = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed: {result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def name_of(manifest: Manifest) -> str:
    return f"{manifest['kind']}/{manifest['metadata']['name']}"


def validation_errors(manifest: Manifest) -> list[str]:
    validator = k8s_crds.validator_for(manifest["apiVersion"], manifest["kind"])
    if validator is not None:
        return [
            f"{name_of(manifest)}: {'.'.join(map(str, error.path))}: {error.message}"
            for error in validator.iter_errors(manifest)
        ]
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{name_of(manifest)}: {'.'.join(map(str, error.path))}: {error.message}"]
    except SchemaNotFoundError:
        return [f"{name_of(manifest)}: no schema for {manifest['apiVersion']}"]
    return []


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [manifest for manifest in manifests if manifest["kind"] == kind]


def by_name(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {manifest["metadata"]["name"]: manifest for manifest in of_kind(manifests, kind)}


def pod_specs(manifests: list[Manifest]) -> dict[str, Manifest]:
    """Deployment, Job and CronJob name -> its pod spec."""
    specs: dict[str, Manifest] = {}
    for manifest in manifests:
        if manifest["kind"] in ("Deployment", "Job"):
            specs[name_of(manifest)] = manifest["spec"]["template"]["spec"]
        elif manifest["kind"] == "CronJob":
            job = manifest["spec"]["jobTemplate"]["spec"]
            specs[name_of(manifest)] = job["template"]["spec"]
    return specs


def checkov_failures(checkov: str, target: Path, *frameworks: str) -> list[str]:
    """checkov's failed checks on a file or a directory (frameworks: kubernetes,
    dockerfile); one run, since checkov takes seconds to start."""
    result = subprocess.run(
        [
            checkov,
            "--quiet",
            "--compact",
            "--output",
            "json",
            "--framework",
            *frameworks,
            "--directory" if target.is_dir() else "--file",
            str(target),
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise AssertionError(f"checkov failed ({result.returncode}): {result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    return [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for one in reports
        for check in one.get("results", {}).get("failed_checks", [])
    ]


_ANNOTATION_SKIP = re.compile(r"^(CKV2?_[A-Z0-9_]+)=(.*)$")
_DOCKERFILE_SKIP = re.compile(r"#\s*checkov:skip=(CKV2?_[A-Z0-9_]+)(?::(.*))?$")


def unexplained_skips(manifests: list[Manifest], dockerfile: Path) -> list[str]:
    """Skipped checks without a reason of at least a few words."""
    problems = []
    for manifest in manifests:
        annotations = manifest["metadata"].get("annotations") or {}
        for key, value in annotations.items():
            if not key.startswith("checkov.io/skip"):
                continue
            match = _ANNOTATION_SKIP.match(value)
            if not match or len(match.group(2).split()) < 5:
                problems.append(f"{name_of(manifest)}: {key}: {value!r}")
    for line in dockerfile.read_text().splitlines():
        found = _DOCKERFILE_SKIP.search(line)
        if found and len((found.group(2) or "").split()) < 5:
            problems.append(f"{dockerfile.name}: {line.strip()!r}")
    return problems
