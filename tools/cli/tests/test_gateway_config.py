"""deploy/gateway/nginx.conf.template: the routing table of SERVICES, rendered safely,
accepted by a real nginx (``nginx -t``) when one is installed."""

import re
import subprocess
from pathlib import Path

import pytest
from billing_cli.nginx_conf import VARIABLES, compose_config, render, template_path
from billing_cli.services import SERVICES
from billing_cli.web import PAGES
from billing_platform.testing.tools import require_tool

pytestmark = pytest.mark.unit

TEMPLATE = template_path().read_text()
LOCATION = re.compile(r"location\s+(=\s+)?(\S+)\s*\{([^}]*)\}")


def _values(state: Path) -> dict[str, str]:
    return {
        "GATEWAY_LISTEN": "127.0.0.1:18000",
        "GATEWAY_STATE_DIR": str(state),
        "WEB_ROOT": str(state / "web"),
        "CHECKOUT_UPSTREAM": "127.0.0.1:8001",
        "SUBSCRIPTIONS_UPSTREAM": "127.0.0.1:8002",
        "WEBHOOKS_UPSTREAM": "127.0.0.1:8003",
        "ANALYTICS_UPSTREAM": "127.0.0.1:8005",
    }


def _proxied() -> dict[str, str]:
    """Location path -> upstream name, for every proxying location."""
    found = {}
    for _, path, body in LOCATION.findall(TEMPLATE):
        target = re.search(r"proxy_pass\s+http://\$(\w+)_upstream;", body)
        if target:
            found[path] = target.group(1)
    return found


def test_every_route_of_the_services_table_goes_to_its_service_and_nothing_else() -> None:
    expected = {route: name for name, spec in SERVICES.items() for route in spec.routes}
    proxied = _proxied()
    # /api/webhooks/stripe is an exact-match refinement of /api/webhooks/ (same service),
    # /api/webhooks/events its operator part (allowed networks only).
    assert proxied.pop("/api/webhooks/stripe") == "webhooks"
    assert proxied.pop("/api/webhooks/events") == "webhooks"
    # the notifications operator API, likewise for the allowed networks only
    assert proxied.pop("/api/notifications/log") == "notifications"
    assert proxied.pop("/api/notifications/preview/") == "notifications"
    assert proxied == expected


def test_the_pages_are_served_at_the_paths_billing_dev_serves_them() -> None:
    pages = {
        path: re.search(r"try_files /(\S+) =404;", body).group(1)  # type: ignore[union-attr]
        for exact, path, body in LOCATION.findall(TEMPLATE)
        if exact and "try_files /" in body
    }
    assert pages | {"/": "index.html"} == PAGES


def test_webhook_body_limit_is_a_little_over_one_mebibyte_and_the_api_is_small() -> None:
    stripe = next(b for _, p, b in LOCATION.findall(TEMPLATE) if p == "/api/webhooks/stripe")
    limit = int(re.search(r"client_max_body_size (\d+)k;", stripe).group(1))  # type: ignore[union-attr]
    assert 1024 < limit <= 1200
    assert "proxy_set_body" not in TEMPLATE
    assert "sub_filter" not in TEMPLATE
    assert re.search(r"server \{[^@]*client_max_body_size 64k;", TEMPLATE)


def test_only_known_placeholders_and_rendering_fills_them_all(tmp_path: Path) -> None:
    assert set(re.findall(r"\$\{(\w+)\}", TEMPLATE)) == set(VARIABLES)
    rendered = render(TEMPLATE, _values(tmp_path))
    assert re.search(r"\$\{\w+\}", rendered) is None
    assert "set $subscriptions_upstream 127.0.0.1:8002;" in rendered
    assert "$billing_request_id" in rendered  # nginx's own variables untouched


@pytest.mark.parametrize("bad", ["", "a b", "x;}", "$host"])
def test_a_missing_or_unsafe_value_is_refused(tmp_path: Path, bad: str) -> None:
    values = _values(tmp_path) | {"WEBHOOKS_UPSTREAM": bad}
    with pytest.raises(ValueError, match="WEBHOOKS_UPSTREAM"):
        render(TEMPLATE, values)


def test_a_real_nginx_accepts_the_rendered_config(tmp_path: Path) -> None:
    nginx = require_tool("nginx")
    (tmp_path / "web").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(TEMPLATE, _values(tmp_path)))
    result = subprocess.run(
        [nginx, "-t", "-p", f"{tmp_path}/", "-c", str(conf), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_deploy_gateway_nginx_conf_is_the_template_rendered_for_compose() -> None:
    """Issue 7 names ``deploy/gateway/nginx.conf``: it must never drift from the template."""
    committed = template_path().with_name("nginx.conf").read_text()
    assert committed == compose_config()
    directives = [line for line in committed.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in directives if "${" in line]
    assert "set $checkout_upstream checkout:8001;" in committed
    assert "resolver 127.0.0.11 valid=10s" in committed  # Docker's DNS, re-asked every 10 s


def test_compose_mounts_the_rendered_config() -> None:
    compose = (template_path().parents[2] / "docker-compose.yml").read_text()
    assert "./deploy/gateway/nginx.conf:/etc/nginx/nginx.conf:ro" in compose
    assert "nginx.conf.template" not in compose  # no second rendering at start-up


@pytest.mark.parametrize("bad", ["", "10.0.0.1/8", "all", "10.0.0.0/8; allow all"])
def test_operator_networks_must_be_networks(tmp_path: Path, bad: str) -> None:
    values = _values(tmp_path) | {"GATEWAY_OPERATOR_NETWORKS": bad or " , "}
    with pytest.raises(ValueError, match="GATEWAY_OPERATOR_NETWORKS"):
        render(TEMPLATE, values)


def test_operator_networks_become_geo_entries(tmp_path: Path) -> None:
    values = _values(tmp_path) | {"GATEWAY_OPERATOR_NETWORKS": "127.0.0.1, 10.1.0.0/16 ::1"}
    rendered = render(TEMPLATE, values)
    assert "127.0.0.1/32 1; 10.1.0.0/16 1; ::1/128 1;" in rendered
    assert "127.0.0.1/32 1; ::1/128 1; 10.0.0.0/8 1;" in render(TEMPLATE, _values(tmp_path))
