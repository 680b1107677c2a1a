"""``billing dev``: the whole product in one process, on embedded defaults.

Postgres from the ``pgserver`` wheel under ``./.billing/`` when
``DATABASE_URL`` is unset; the in-memory bus when ``AMQP_URL`` is unset;
``JWT_SECRET`` and ``STRIPE_WEBHOOK_SECRET`` generated once and kept in
``./.billing/dev-secrets.json`` when unset, so a restart reuses data and
tokens.

It is a developer's tool, not a server: it listens on loopback unless
``--allow-remote`` says otherwise, the tokens it mints (banner, ``/dev/token``)
carry ``iss: billing-dev`` that ``billing serve`` refuses, its banner prints only
the secrets it generated itself, and the production image does not contain it.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from billing_platform.embedded_postgres import EmbeddedPostgres
from billing_platform.http.auth import JwtVerifier
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.migrations import upgrade
from billing_platform.settings import BillingSettings

from billing_cli.dev_mail import PREFIX as DEV_MAIL_PREFIX
from billing_cli.dev_mail import with_mail_catcher
from billing_cli.dev_web import TOKEN_TTL_SECONDS, DevSignIn, dev_web_app
from billing_cli.gateway import DevGateway
from billing_cli.services import SERVICES

STATE_DIR = Path(".billing")
DEMO_TENANT = "tenant_demo"
TOKEN_HOURS = TOKEN_TTL_SECONDS // 3600


def dev_secrets(state_dir: Path) -> dict[str, str]:
    path = state_dir / "dev-secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    state_dir.mkdir(parents=True, exist_ok=True)
    created = {
        "jwt_secret": secrets.token_urlsafe(32),
        "stripe_webhook_secret": "whsec_" + secrets.token_hex(24),
    }
    path.write_text(json.dumps(created, indent=2))
    path.chmod(0o600)
    return created


def dev_settings(
    settings: BillingSettings, stack: ExitStack, state_dir: Path, host: str, port: int
) -> BillingSettings:
    """Fill in what the environment leaves unset with embedded defaults."""
    updates: dict[str, object] = {}
    if "app_base_url" not in settings.model_fields_set:
        updates["app_base_url"] = f"http://{host}:{port}"  # return URLs come back to us
    stored = dev_secrets(state_dir)
    if not settings.jwt_secret and not settings.jwt_public_key:
        updates["jwt_secret"] = stored["jwt_secret"]
    if not settings.stripe_webhook_secret:
        updates["stripe_webhook_secret"] = [stored["stripe_webhook_secret"]]
    if not settings.database_url:
        embedded = EmbeddedPostgres(state_dir / "postgres")
        updates["database_url"] = embedded.start()
        stack.callback(embedded.stop)
    return settings.model_copy(update=updates)


SANDBOX_PORT = 12111
DEV_STRIPE_KEY = "sk_test_billing_dev"


def with_sandbox(
    settings: BillingSettings,
    stack: ExitStack,
    state_dir: Path,
    port: int,
    sandbox_port: int = SANDBOX_PORT,
) -> BillingSettings:
    """Start the Stripe sandbox (when no STRIPE_API_KEY is set) delivering webhooks to us."""
    if settings.stripe_api_key:
        return settings
    from stripe_sandbox.config import SandboxConfig, WebhookTarget
    from stripe_sandbox.server import running_in_thread

    config = SandboxConfig(
        host="127.0.0.1",
        port=sandbox_port,
        state_file=state_dir / "sandbox.sqlite3",
        webhooks=(
            WebhookTarget(
                url=f"http://127.0.0.1:{port}/api/webhooks/stripe",
                secret=settings.stripe_webhook_secret[0],
            ),
        ),
    )
    from billing_cli.sandbox_serve import with_sandbox_prices

    sandbox = stack.enter_context(running_in_thread(config))
    return with_sandbox_prices(
        settings.model_copy(
            update={"stripe_api_key": DEV_STRIPE_KEY, "stripe_api_base": sandbox.url}
        )
    )


def bind_problem(host: str, allow_remote: bool) -> str | None:
    """Why ``billing dev`` must not listen on ``host`` (None: loopback, or allowed)."""
    if allow_remote or host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return None
    except ValueError:
        pass
    return (
        f"billing dev listens on loopback only (127.0.0.1, ::1, localhost), not {host}: "
        "anyone who reaches it can mint tokens for any tenant. Pass --allow-remote to "
        "expose it anyway (a throwaway demo on a trusted network)."
    )


def dev_gateway(settings: BillingSettings) -> DevGateway:
    """Every service migrated and built on ``settings``, behind the in-process gateway,
    each verifying tokens with ``billing dev``'s verifier (which takes its own tokens)."""
    assert settings.database_url is not None
    for spec in SERVICES.values():
        upgrade(spec.migrations, settings.database_url)
    bus = InMemoryBus() if not settings.amqp_url else None
    settings, mail = with_mail_catcher(settings)  # SMTP_URL unset: mail lands at /dev/mail
    routes = [] if mail is None else [(DEV_MAIL_PREFIX, mail)]
    for spec in SERVICES.values():
        application = spec.create_app(settings, bus=bus)
        if settings.jwt_secret or settings.jwt_public_key:
            application.state.jwt_verifier = dev_verifier(settings)
        routes += [(prefix, application) for prefix in spec.routes]
    return DevGateway(routes, fallback=dev_web_app(settings))  # web/ and the sign-in


def dev_verifier(settings: BillingSettings) -> JwtVerifier:
    """The services' checks, except that the dev issuer is welcome (and so, with
    JWT_ISSUER set, is any other: a laptop's server, not a boundary)."""
    return JwtVerifier.from_settings(settings.model_copy(update={"jwt_issuer": None}))


def banner(settings: BillingSettings, host: str, port: int, *, provided: BillingSettings) -> str:
    """What to do next. ``provided`` is the environment's settings: a secret taken
    from there is the operator's, and is never printed."""
    base = f"http://{host}:{port}"
    bus = f"RabbitMQ {redact_url(settings.amqp_url)}" if settings.amqp_url else "in-memory"
    lines = [
        "",
        f"billing dev is up on {base}",
        f"  database: {redact_url(settings.database_url or '')}",
        f"  bus:      {bus}",
        f"  pages:    {base}/dev/sign-in  (then /pricing, /settings/billing, /admin/webhooks)",
        f"  health:   {base}/healthz   readiness: {base}/readyz",
        f"  mail:     {base}/dev/mail  (captured; JSON at /dev/mail/messages)"
        if not settings.smtp_url
        else f"  mail:     {redact_url(settings.smtp_url)}",
        f"  stripe:   {redact_url(settings.stripe_api_base or 'api.stripe.com')}",
    ]
    sign_in = DevSignIn.from_settings(settings)
    if sign_in is not None:
        owner = sign_in.mint(DEMO_TENANT, "owner")
        member = sign_in.mint(DEMO_TENANT, "member")
        hours = TOKEN_HOURS
        lines += [
            f"  owner token ({DEMO_TENANT}, {hours} h, billing dev only):  {owner}",
            f"  member token ({DEMO_TENANT}, {hours} h, billing dev only): {member}",
            "  start a checkout:",
            f"    curl -s -X POST {base}/api/billing/checkout -H 'Authorization: Bearer {owner}'"
            """ -H 'Content-Type: application/json' -d '{"plan": "team", "trial": true}'""",
        ]
    if settings.stripe_webhook_secret:
        secret = settings.stripe_webhook_secret[0]
        shown = (
            "(from STRIPE_WEBHOOK_SECRET, not shown)" if provided.stripe_webhook_secret else secret
        )
        lines.append(f"  webhook secret: {shown}")
    lines.append("Ctrl-C stops everything.")
    return "\n".join(lines)


_SECRET_PARAMETER = re.compile(r"pass|secret|token|key|auth|cred", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` without its user information or secret-looking query values.

    Parsed, not pattern-matched: the host is what follows the last ``@`` of the
    authority (a password may hold an unencoded ``@``), and ``?password=...`` style
    parameters (libpq's ``password``, ``sslpassword``...) are masked too.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(key, "***" if _SECRET_PARAMETER.search(key) else value) for key, value in pairs],
            safe="*",
        )
    return urlunsplit(parts._replace(netloc=netloc, query=query))
