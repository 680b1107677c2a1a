"""Render ``deploy/gateway/nginx.conf.template`` (the gateway) outside Docker.

The template's ``${NAME}`` placeholders are the names of ``VARIABLES``; nginx's
own ``$variables`` are lower case and left alone, as the official nginx image's
envsubst leaves them in docker-compose. ``python -m billing_cli.nginx_conf``
prints the config rendered from the environment; ``--compose`` renders it with
docker-compose's values, which is what ``deploy/gateway/nginx.conf`` holds (a
test keeps that file equal to the template's rendering).
"""

from __future__ import annotations

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
)
COMPOSE_VALUES = {  # the gateway service of docker-compose.yml
    "GATEWAY_LISTEN": "8000",
    "GATEWAY_STATE_DIR": "/var/cache/nginx",
    "WEB_ROOT": "/usr/share/billing/web",
    "CHECKOUT_UPSTREAM": "checkout:8001",
    "SUBSCRIPTIONS_UPSTREAM": "subscriptions:8002",
    "WEBHOOKS_UPSTREAM": "webhooks:8003",
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
    problems = [name for name in VARIABLES if not _SAFE_VALUE.match(values.get(name, ""))]
    unknown = sorted(set(_PLACEHOLDER.findall(template)) - set(VARIABLES))
    if problems or unknown:
        raise ValueError(f"gateway config: bad or missing {problems}, unknown {unknown}")
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


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
