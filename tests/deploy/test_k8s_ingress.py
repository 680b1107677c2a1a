"""The Ingresses route what the gateway routes, with the gateway's limits (issue 24).

The gateway's routes are read from deploy/gateway/nginx.conf.template (the locations
that proxy to a service), checked there against billing_cli.services.SERVICES by
tools/cli/tests/test_gateway_config.py: a route added to one and not to the Ingress
fails here.
"""

from __future__ import annotations

import re

import k8s_manifests
import pytest
from billing_cli.nginx_conf import DEFAULTS, template_path
from billing_cli.services import SERVICES
from conftest import Rendered

pytestmark = pytest.mark.unit

# Which Deployment's Service answers for each gateway upstream.
BACKENDS = {
    "billing-checkout": "checkout",
    "billing-subscriptions": "subscriptions",
    "billing-webhooks-ingest": "webhooks",
    "billing-analytics": "analytics",
    "billing-notifications": "notifications",
}
_LOCATION = re.compile(r"^\s*location (=\s*)?(/\S*) \{$(.*?)^\s*\}$", re.M | re.S)
_UPSTREAM = re.compile(r"proxy_pass http://\$(\w+)_upstream;")


def gateway_routes() -> dict[tuple[str, bool], dict[str, str]]:
    """(path, exact) -> what the gateway's location does: service, body limit, rate
    limited or not, operator networks only or not."""
    template = template_path().read_text()
    server_body = re.search(r"^\s*client_max_body_size (\S+);", template, re.M)
    assert server_body is not None
    exempt = re.search(r"map \$uri \$billing_rate_key \{(.*?)\}", template, re.S)
    assert exempt is not None
    unlimited = set(re.findall(r"^\s*(/\S+) \"\";", exempt.group(1), re.M))
    routes = {}
    for match in _LOCATION.finditer(template):
        upstream = _UPSTREAM.search(match.group(3))
        if not upstream:
            continue
        path, body = match.group(2), match.group(3)
        size = re.search(r"client_max_body_size (\S+);", body)
        routes[(path, bool(match.group(1)))] = {
            "service": upstream.group(1),
            "body": size.group(1) if size else server_body.group(1),
            "rate_limited": str(path not in unlimited),
            "operators_only": str("$billing_operator_network" in body),
        }
    return routes


def ingress_routes(
    manifests: list[k8s_manifests.Manifest],
) -> dict[tuple[str, bool], dict[str, str]]:
    routes = {}
    for ingress in k8s_manifests.of_kind(manifests, "Ingress"):
        annotations = ingress["metadata"]["annotations"]
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["pathType"] in ("Exact", "ImplementationSpecific")
                key = (path["path"], path["pathType"] == "Exact")
                assert key not in routes, f"{key} routed twice"
                routes[key] = {
                    "service": BACKENDS[path["backend"]["service"]["name"]],
                    "body": annotations["nginx.ingress.kubernetes.io/proxy-body-size"],
                    "rate_limited": str("nginx.ingress.kubernetes.io/limit-rps" in annotations),
                    "operators_only": str(
                        "nginx.ingress.kubernetes.io/allowlist-source-range" in annotations
                    ),
                }
    return routes


def test_the_gateway_template_is_read() -> None:
    routes = gateway_routes()
    prefixes = {path for path, exact in routes if not exact}
    assert prefixes >= {route for spec in SERVICES.values() for route in spec.routes}
    assert routes[("/api/webhooks/stripe", True)]["rate_limited"] == "False"


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_ingress_routes_and_limits_equal_the_gateway(rendered: Rendered, overlay: str) -> None:
    assert ingress_routes(rendered[overlay]) == gateway_routes()


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_rate_and_connection_limits_are_the_gateway(rendered: Rendered, overlay: str) -> None:
    template = template_path().read_text()
    rate = re.search(r"rate=(\d+)r/s", template)
    burst = re.search(r"limit_req zone=\S+ burst=(\d+)", template)
    connections = re.search(r"limit_conn billing_conn_per_client (\d+);", template)
    assert rate is not None
    assert burst is not None
    assert connections is not None
    for ingress in k8s_manifests.of_kind(rendered[overlay], "Ingress"):
        annotations = ingress["metadata"]["annotations"]
        prefix = "nginx.ingress.kubernetes.io/"
        assert annotations[prefix + "limit-connections"] == connections.group(1)
        if prefix + "limit-rps" in annotations:
            rps = int(annotations[prefix + "limit-rps"])
            assert rps == int(rate.group(1))
            assert rps * int(annotations[prefix + "limit-burst-multiplier"]) == int(burst.group(1))
        allowed = annotations.get(prefix + "allowlist-source-range")
        if allowed is not None:
            assert allowed == DEFAULTS["GATEWAY_OPERATOR_NETWORKS"].replace(
                "127.0.0.1/32,::1/128,", ""
            )
