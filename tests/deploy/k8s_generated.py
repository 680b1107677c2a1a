"""Files under deploy/k8s/base that are copies of another source, and how they are made.

``python tests/deploy/k8s_generated.py`` rewrites them; test_generated.py fails while one
differs from what this module makes, so each thing has one source:

- ``prometheus-rule.yaml``: deploy/observability/alerts.yml (the rules promtool checks
  and unit-tests) wrapped in a ``PrometheusRule``;
- ``postgres-roles.yaml``: deploy/postgres/roles.sql as the ConfigMap CloudNativePG's
  initdb runs (kustomize reads files only below the kustomization, and a generated
  ConfigMap's hashed name would not reach the ``Cluster``, a custom resource).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "deploy" / "k8s" / "base"
ALERTS = ROOT / "deploy" / "observability" / "alerts.yml"
ROLES = ROOT / "deploy" / "postgres" / "roles.sql"

RULE_HEADER = """\
# Generated from deploy/observability/alerts.yml (python tests/deploy/k8s_generated.py):
# edit that file (promtool checks and unit-tests it), not this one.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: billing
  labels:
    # The label a Prometheus installed by kube-prometheus-stack selects rules by
    # (its ruleSelector); set the overlay's to your Prometheus's.
    release: prometheus
spec:
"""


ROLES_HEADER = """\
# Generated from deploy/postgres/roles.sql (python tests/deploy/k8s_generated.py): edit
# that file (tests/hostile/test_trust_database.py runs it), not this one.
apiVersion: v1
kind: ConfigMap
metadata:
  name: billing-postgres-roles
data:
  roles.sql: |
"""


def indented(text: str, spaces: int) -> str:
    return "".join(
        f"{' ' * spaces}{line}\n" if line.strip() else "\n" for line in text.splitlines()
    )


def prometheus_rule(alerts: str) -> str:
    """alerts.yml (its comment header dropped) as the spec of a PrometheusRule."""
    lines = alerts.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("groups:"))
    return RULE_HEADER + indented("\n".join(lines[start:]), 2)


def expected() -> dict[Path, str]:
    return {
        BASE / "prometheus-rule.yaml": prometheus_rule(ALERTS.read_text()),
        BASE / "postgres-roles.yaml": ROLES_HEADER + indented(ROLES.read_text(), 4),
    }


def main() -> None:
    for path, text in expected().items():
        path.write_text(text)
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
