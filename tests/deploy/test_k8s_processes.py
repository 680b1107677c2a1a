"""Every process `billing serve` runs has its Deployment, shaped the same way (issue 24)."""

from __future__ import annotations

import k8s_manifests
import pytest
from billing_cli.main import Servable
from billing_cli.services import SERVICES
from conftest import Rendered

pytestmark = pytest.mark.unit

PROBES = {"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"}


def served(deployment: k8s_manifests.Manifest) -> tuple[str, int | None]:
    """(service, WEBHOOK_WORKER_CONCURRENCY or None) of a Deployment's container."""
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[:1] == ["serve"], deployment["metadata"]["name"]
    env = {item["name"]: item.get("value") for item in container.get("env", [])}
    concurrency = env.get("WEBHOOK_WORKER_CONCURRENCY")
    return args[1], int(concurrency) if concurrency is not None else None


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_every_service_has_a_deployment(rendered: Rendered, overlay: str) -> None:
    deployments = k8s_manifests.of_kind(rendered[overlay], "Deployment")
    runs = [served(deployment) for deployment in deployments]
    services = {service for service, _ in runs}
    assert services == set(SERVICES)
    assert services == {member.value for member in Servable} - {"sandbox"}
    # Webhooks split: ingest-only replicas and worker replicas.
    webhooks = sorted(c for service, c in runs if service == "webhooks" and c is not None)
    assert webhooks[0] == 0
    assert webhooks[-1] > 0


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_each_deployment_has_its_companions(rendered: Rendered, overlay: str) -> None:
    manifests = rendered[overlay]
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]
        for h in k8s_manifests.of_kind(manifests, "HorizontalPodAutoscaler")
    }
    pdbs = k8s_manifests.by_name(manifests, "PodDisruptionBudget")
    monitors = k8s_manifests.by_name(manifests, "PodMonitor")
    for name, deployment in k8s_manifests.by_name(manifests, "Deployment").items():
        labels = deployment["spec"]["selector"]["matchLabels"]
        assert name in hpas
        assert pdbs[name]["spec"]["selector"]["matchLabels"] == labels
        assert monitors[name]["spec"]["selector"]["matchLabels"] == labels
        pod = deployment["spec"]["template"]["spec"]
        assert pod["topologySpreadConstraints"]
        (container,) = pod["containers"]
        for probe, path in PROBES.items():
            assert container[probe]["httpGet"]["path"] == path, (name, probe)
        assert {"requests", "limits"} <= set(container["resources"])


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_every_container_is_non_root_and_read_only(rendered: Rendered, overlay: str) -> None:
    for name, pod in k8s_manifests.pod_specs(rendered[overlay]).items():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["runAsUser"] >= 10000, name
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounts, name


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_the_migration_job_runs_billing_migrate_as_the_owner(
    rendered: Rendered, overlay: str
) -> None:
    (job,) = k8s_manifests.of_kind(rendered[overlay], "Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]
    secrets = [ref["secretRef"]["name"] for ref in container["envFrom"] if "secretRef" in ref]
    assert secrets == ["billing-migrate"]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync"


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_stores_are_three_node_operator_clusters(rendered: Rendered, overlay: str) -> None:
    (postgres,) = k8s_manifests.of_kind(rendered[overlay], "Cluster")
    (rabbitmq,) = k8s_manifests.of_kind(rendered[overlay], "RabbitmqCluster")
    assert postgres["spec"]["instances"] == 3
    assert postgres["spec"]["backup"]["retentionPolicy"]
    assert rabbitmq["spec"]["replicas"] == 3
    assert "default_queue_type = quorum" in rabbitmq["spec"]["rabbitmq"]["additionalConfig"]
