"""Every variable the settings need reaches every process from the ConfigMap or a
Secret, with values the settings accept (issue 24).

"Needed": a field of a settings class (BillingSettings, and any service's own
BaseSettings subclass) with no usable default (None or empty), except the alternatives
and options in OPTIONAL. A new required variable without its manifest fails here.
"""

from __future__ import annotations

import secrets
from typing import Any

import billing_cli.services  # noqa: F401 (imports every service, so their settings classes)
import k8s_manifests
import pytest
from billing_platform.serve_checks import serve_problems
from billing_platform.settings import load_settings
from conftest import Rendered
from pydantic_settings import BaseSettings

pytestmark = pytest.mark.unit

OPTIONAL = {
    "STRIPE_API_BASE": "the Stripe sandbox's URL, never in a cluster",
    "STRIPE_CONNECT_ACCOUNTS": "none by default: only the platform's own account",
    "JWT_PUBLIC_KEY": "an alternative to JWT_SECRET (RS256)",
    "JWT_SECRETS": "more HS256 keys during a rotation",
    "JWT_JWKS_FILE": "an alternative to JWT_SECRET (the identity provider's keys)",
    "JWT_JWKS_URL": "an alternative to JWT_SECRET (the identity provider's keys)",
    "SMTP_URL": "notifications only (its Secret); unset there, every mail waits (deferred)",
    "MAIL_REPLY_TO": "optional Reply-To of the billing emails",
    "NOTIFICATIONS_UNSUBSCRIBE_SECRET": "notifications only (its Secret); else JWT_SECRET",
}


def settings_classes() -> list[type[BaseSettings]]:
    found: list[type[BaseSettings]] = []
    pending: list[type[BaseSettings]] = [BaseSettings]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.split(".")[0] != "pydantic_settings":
                found.append(subclass)
    return found


def required_variables() -> set[str]:
    required = set()
    for cls in settings_classes():
        for name, field in cls.model_fields.items():
            if field.is_required():
                required.add(name.upper())
                continue
            default = field.get_default(call_default_factory=True)
            if default is None or default == [] or default == "":
                required.add(name.upper())
    return required - set(OPTIONAL)


def secret_keys(manifests: list[k8s_manifests.Manifest]) -> dict[str, set[str]]:
    """Secret name -> its keys, from the ExternalSecrets (the overlays' secret form)."""
    return {
        es["spec"]["target"]["name"]: set(es["spec"]["target"]["template"]["data"])
        for es in k8s_manifests.of_kind(manifests, "ExternalSecret")
    }


def environment(
    manifests: list[k8s_manifests.Manifest], container: dict[str, Any]
) -> dict[str, str]:
    """The container's environment; secret values are generated strong ones (the
    ExternalSecret holds a template, the value lives in the store)."""
    configmaps = {
        cm["metadata"]["name"]: cm.get("data", {})
        for cm in k8s_manifests.of_kind(manifests, "ConfigMap")
    }
    keys = secret_keys(manifests)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]])
        else:
            for key in keys[source["secretRef"]["name"]]:
                env[key] = _strong_value(key)
    env.update({item["name"]: item["value"] for item in container.get("env", [])})
    return env


def _strong_value(key: str) -> str:
    token = secrets.token_hex(24)
    return {
        "DATABASE_URL": f"postgresql://role:{token}@billing-postgres-rw:5432/billing",
        "AMQP_URL": f"amqp://user:{token}@billing-rabbitmq:5672/",
        "STRIPE_API_KEY": f"rk_live_{token}",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{token}",
        "SMTP_URL": f"smtp://billing:{token}@smtp.example.com:587?starttls=true",
    }.get(key, token)


def deployments(manifests: list[k8s_manifests.Manifest]) -> dict[str, dict[str, Any]]:
    return {
        name: deployment["spec"]["template"]["spec"]["containers"][0]
        for name, deployment in k8s_manifests.by_name(manifests, "Deployment").items()
    }


def test_required_variables_are_found() -> None:
    required = required_variables()
    assert {"DATABASE_URL", "AMQP_URL", "STRIPE_WEBHOOK_SECRET", "JWT_AUDIENCE"} <= required
    assert "LOG_LEVEL" not in required  # it has a default


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_every_deployment_gets_every_required_variable(rendered: Rendered, overlay: str) -> None:
    required = required_variables()
    for name, container in deployments(rendered[overlay]).items():
        missing = required - set(environment(rendered[overlay], container))
        assert not missing, f"{name} lacks {sorted(missing)}"


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_every_deployment_environment_is_accepted_by_billing_serve(
    rendered: Rendered, overlay: str
) -> None:
    for name, container in deployments(rendered[overlay]).items():
        env = {
            key.lower(): value for key, value in environment(rendered[overlay], container).items()
        }
        settings = load_settings(**env)
        assert serve_problems(settings) == [], name
        assert settings.price_ids().keys() == {"solo", "team", "enterprise"}


@pytest.mark.parametrize("overlay", k8s_manifests.OVERLAYS)
def test_jobs_get_a_database(rendered: Rendered, overlay: str) -> None:
    manifests = rendered[overlay]
    for name, pod in k8s_manifests.pod_specs(manifests).items():
        (container,) = pod["containers"]
        assert "DATABASE_URL" in environment(manifests, container), name


def test_plain_secrets_hold_the_keys_of_the_external_ones(kubectl: str) -> None:
    plain = k8s_manifests.render(kubectl, k8s_manifests.K8S / "secrets" / "plain")
    external = k8s_manifests.render(kubectl, k8s_manifests.K8S / "secrets" / "external")
    plain_keys = {s["metadata"]["name"]: set(s["stringData"]) for s in plain}
    assert plain_keys == secret_keys(external)
    for secret in plain:  # placeholders billing serve refuses, never real values
        for key, value in secret["stringData"].items():
            if key != "username":
                assert "change" in value.replace("_", "-"), (secret["metadata"]["name"], key)
