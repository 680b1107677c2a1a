"""``billing dev``: the whole product in one process, on embedded defaults.

Postgres from the ``pgserver`` wheel under ``./.billing/`` when
``DATABASE_URL`` is unset; the in-memory bus when ``AMQP_URL`` is unset;
``JWT_SECRET`` and ``STRIPE_WEBHOOK_SECRET`` generated once and kept in
``./.billing/dev-secrets.json`` when unset, so a restart reuses data and
tokens.
"""

from __future__ import annotations

import json
import secrets
from contextlib import ExitStack
from pathlib import Path

from billing_platform.embedded_postgres import EmbeddedPostgres
from billing_platform.http.tokens import mint_token
from billing_platform.settings import BillingSettings

STATE_DIR = Path(".billing")
DEMO_TENANT = "tenant_demo"


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


def banner(settings: BillingSettings, host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    bus = f"RabbitMQ {_redact(settings.amqp_url)}" if settings.amqp_url else "in-memory"
    lines = [
        "",
        f"billing dev is up on {base}",
        f"  database: {_redact(settings.database_url or '')}",
        f"  bus:      {bus}",
        f"  pages:    {base}/dev/sign-in  (then /pricing, /settings/billing, /admin/webhooks)",
        f"  health:   {base}/healthz   readiness: {base}/readyz",
        f"  stripe:   {settings.stripe_api_base or 'api.stripe.com'}",
    ]
    if settings.jwt_secret:
        owner = mint_token(
            settings.jwt_secret, tenant_id=DEMO_TENANT, role="owner", ttl_seconds=86400
        )
        member = mint_token(
            settings.jwt_secret, tenant_id=DEMO_TENANT, role="member", ttl_seconds=86400
        )
        lines += [
            f"  owner token ({DEMO_TENANT}, 24 h):  {owner}",
            f"  member token ({DEMO_TENANT}, 24 h): {member}",
            "  start a checkout:",
            f"    curl -s -X POST {base}/api/billing/checkout -H 'Authorization: Bearer {owner}'"
            """ -H 'Content-Type: application/json' -d '{"plan": "team", "trial": true}'""",
        ]
    if settings.stripe_webhook_secret:
        lines.append(f"  webhook secret: {settings.stripe_webhook_secret[0]}")
    lines.append("Ctrl-C stops everything.")
    return "\n".join(lines)


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
