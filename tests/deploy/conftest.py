"""Fixtures of the deploy/k8s checks: each overlay rendered once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers beside this file (k8s_manifests, k8s_crds, k8s_generated) are plain
# modules, not a package: this directory on the path lets the tests import them.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import k8s_manifests
from billing_platform.testing.tools import require_tool

Rendered = dict[str, list[k8s_manifests.Manifest]]


@pytest.fixture(scope="session")
def kubectl() -> str:
    return require_tool("kubectl")


@pytest.fixture(scope="session")
def rendered(kubectl: str) -> Rendered:
    """Overlay name -> its objects (``kubectl kustomize deploy/k8s/overlays/NAME``)."""
    return {
        overlay: k8s_manifests.render(kubectl, k8s_manifests.K8S / "overlays" / overlay)
        for overlay in k8s_manifests.OVERLAYS
    }
