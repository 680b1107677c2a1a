"""What ``billing serve`` refuses to start with (issue 15 items 7 and 8).

A service that starts on a placeholder secret or an unbound token audience works, and
nobody notices until someone else uses the same well-known value. So ``billing serve``
refuses, naming every problem at once:

- ``JWT_AUDIENCE`` / ``JWT_ISSUER`` unset (tokens minted for another product, or by
  another issuer, would be accepted), unless ``JWT_REQUIRE_AUDIENCE=false`` /
  ``JWT_REQUIRE_ISSUER=false`` says the identity provider sets none;
- a JWT or webhook secret that is a known placeholder: deploy/env.example's values,
  anything saying ``change-me``/``changeme``/``placeholder``, or a word such as
  ``secret`` or ``password``;
- a well-known password (``billing``, ``guest``, ``postgres`` ...) in ``DATABASE_URL``
  or ``AMQP_URL`` for a server that is not on this machine (127.0.0.1 and localhost
  are a developer's or CI's own Postgres and RabbitMQ: RabbitMQ lets ``guest`` in only
  from there).

``billing dev`` does not apply these: it generates its own secrets.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from billing_platform.http.jwt_keys import parse_keyed_secrets
from billing_platform.settings import BillingSettings, SettingsError

PLACEHOLDER_MARKERS = re.compile(
    r"change[-_ ]?me|replace[-_ ]?me|placeholder|your[-_ ]?secret|example|xxxxx",
    re.IGNORECASE,
)
WEAK_VALUES = frozenset(
    {
        "secret",
        "password",
        "passwd",
        "changeit",
        "billing",
        "guest",
        "postgres",
        "admin",
        "root",
        "test",
        "dev",
        "jwt",
        "jwt-secret",
        "jwt_secret",
        "whsec_test",
        "whsec_",
        "123456",
        "12345678",
    }
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_placeholder(value: str) -> bool:
    """A well-known value nobody should sign or log in with."""
    stripped = value.strip()
    bare = stripped.removeprefix("whsec_")
    return (
        PLACEHOLDER_MARKERS.search(stripped) is not None
        or stripped.lower() in WEAK_VALUES
        or bare.lower() in WEAK_VALUES
        or len(set(bare)) <= 2  # "aaaa...", "abab..."
    )


def serve_problems(settings: BillingSettings) -> list[str]:
    problems: list[str] = []
    if settings.jwt_require_audience and not settings.jwt_audience:
        problems.append(
            "JWT_AUDIENCE is not set: tokens for any audience would be accepted "
            "(set it, or JWT_REQUIRE_AUDIENCE=false if your identity provider sets no aud)"
        )
    if settings.jwt_require_issuer and not settings.jwt_issuer:
        problems.append(
            "JWT_ISSUER is not set: tokens from any issuer would be accepted "
            "(set it, or JWT_REQUIRE_ISSUER=false if your identity provider sets no iss)"
        )
    generate = "generate one: openssl rand -hex 32"
    if settings.jwt_secret and is_placeholder(settings.jwt_secret):
        problems.append(f"JWT_SECRET is a placeholder or well-known value: {generate}")
    for kid, secret in parse_keyed_secrets(settings.jwt_secrets or "").items():
        if is_placeholder(secret):
            problems.append(f"JWT_SECRETS {kid}: a placeholder or well-known value: {generate}")
    if any(is_placeholder(secret) for secret in settings.stripe_webhook_secret):
        problems.append(
            "STRIPE_WEBHOOK_SECRET holds a placeholder: use the endpoint's signing secret "
            "from the Stripe dashboard (with the sandbox: whsec_$(openssl rand -hex 24))"
        )
    for name, url in (("DATABASE_URL", settings.database_url), ("AMQP_URL", settings.amqp_url)):
        if url and _default_password_off_host(url):
            problems.append(f"{name} uses a default or placeholder password for a remote server")
    return problems


def check_serve_settings(settings: BillingSettings) -> None:
    """Raise ``SettingsError`` naming every problem, or return."""
    problems = serve_problems(settings)
    if problems:
        raise SettingsError("refusing to start: " + "; ".join(problems))


def _default_password_off_host(url: str) -> bool:
    parts = urlsplit(url)
    if (parts.hostname or "") in LOCAL_HOSTS:
        return False
    password = unquote(parts.password) if parts.password else ""
    return bool(password) and is_placeholder(password)
