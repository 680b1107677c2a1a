"""Render ``deploy/gateway/nginx.conf.template`` (the gateway).

The template's ``${NAME}`` placeholders are the names of ``VARIABLES``; nginx's
own ``$variables`` are lower case and left alone. ``DEFAULTS`` fill what is not
given; ``GATEWAY_OPERATOR_NETWORKS`` is a list of networks, rendered as the
entries of an nginx ``geo`` block. ``python -m billing_cli.nginx_conf`` prints the
config rendered from the environment; ``--compose`` renders it with
docker-compose's values, which is what ``deploy/gateway/nginx.conf`` holds (the
file compose mounts; a test keeps it equal to the template's rendering).
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

VARIABLES = (
    "GATEWAY_LISTEN",
    "GATEWAY_STATE_DIR",
    "WEB_ROOT",
    "CHECKOUT_UPSTREAM",
    "SUBSCRIPTIONS_UPSTREAM",
    "WEBHOOKS_UPSTREAM",
    "ANALYTICS_UPSTREAM",
    "NOTIFICATIONS_UPSTREAM",
    "GATEWAY_RESOLVER",
    "GATEWAY_OPERATOR_NETWORKS",
    "GATEWAY_WORKER_CONNECTIONS",
)
DEFAULTS = {
    "GATEWAY_RESOLVER": "127.0.0.11",  # Docker's embedded DNS
    "GATEWAY_OPERATOR_NETWORKS": "127.0.0.1/32,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16",
    "GATEWAY_WORKER_CONNECTIONS": "4096",
    "NOTIFICATIONS_UPSTREAM": "notifications:8004",
}
COMPOSE_VALUES = {  # what deploy/gateway/nginx.conf (mounted by docker-compose) holds
    "GATEWAY_LISTEN": "8000",
    "GATEWAY_STATE_DIR": "/var/cache/nginx",
    "WEB_ROOT": "/usr/share/billing/web",
    "CHECKOUT_UPSTREAM": "checkout:8001",
    "SUBSCRIPTIONS_UPSTREAM": "subscriptions:8002",
    "WEBHOOKS_UPSTREAM": "webhooks:8003",
    "ANALYTICS_UPSTREAM": "analytics:8005",
    **DEFAULTS,
}
GENERATED_HEADER = (
    "# Generated from nginx.conf.template with docker-compose's values:\n"
    "#   python -m billing_cli.nginx_conf --compose > deploy/gateway/nginx.conf\n"
    "# Edit the template, not this file.\n"
)
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_./:\-\[\]]+$")


def template_path() -> Path:
    """The template in the repository (deploy/gateway/), found from the working tree."""
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "deploy" / "gateway" / "nginx.conf.template"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("deploy/gateway/nginx.conf.template not found")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill every placeholder; a missing, unknown or unsafe value is an error."""
    filled = {name: values.get(name) or DEFAULTS.get(name, "") for name in VARIABLES}
    problems = [
        name
        for name in VARIABLES
        if name != "GATEWAY_OPERATOR_NETWORKS" and not _SAFE_VALUE.match(filled[name])
    ]
    if not filled["GATEWAY_WORKER_CONNECTIONS"].isdigit():
        problems.append("GATEWAY_WORKER_CONNECTIONS")
    try:
        filled["GATEWAY_OPERATOR_NETWORKS"] = geo_entries(filled["GATEWAY_OPERATOR_NETWORKS"])
    except ValueError:
        problems.append("GATEWAY_OPERATOR_NETWORKS")
    unknown = sorted(set(_PLACEHOLDER.findall(template)) - set(VARIABLES))
    if problems or unknown:
        raise ValueError(f"gateway config: bad or missing {problems}, unknown {unknown}")
    return _PLACEHOLDER.sub(lambda match: filled[match.group(1)], template)


def geo_entries(networks: str) -> str:
    """``"10.0.0.0/8, 127.0.0.1"`` -> ``"10.0.0.0/8 1; 127.0.0.1/32 1;"`` (each parsed)."""
    parsed = [ipaddress.ip_network(item) for item in re.split(r"[,\s]+", networks) if item]
    if not parsed:
        raise ValueError("no network")
    return " ".join(f"{network} 1;" for network in parsed)


def compose_config() -> str:
    """``deploy/gateway/nginx.conf``: the template rendered for docker-compose."""
    return GENERATED_HEADER + render(template_path().read_text(), COMPOSE_VALUES)


def main() -> None:
    if "--compose" in sys.argv[1:]:
        sys.stdout.write(compose_config())
        return
    sys.stdout.write(render(template_path().read_text(), os.environ))


if __name__ == "__main__":
    main()
