"""The Stripe sandbox as its own process (``billing serve sandbox``, docker-compose).

- ``sandbox_config``: ``--public-url`` (base of the page URLs handed to browsers when
  the services reach the sandbox by another name) and ``--webhook-url`` (an endpoint
  registered at start, signed with the first ``STRIPE_WEBHOOK_SECRET``).
- ``with_sandbox_prices``: for ``billing serve <service>`` against a sandbox
  (``STRIPE_API_BASE`` set), unset ``STRIPE_PRICE_*`` are read from the sandbox's
  seeded lookup keys, as ``billing dev`` does. Against Stripe itself nothing changes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import typer
from billing_platform.settings import BillingSettings

if TYPE_CHECKING:  # the sandbox is not installed in the production image
    from stripe_sandbox.config import SandboxConfig


def sandbox_config(
    host: str,
    port: int,
    *,
    public_url: str | None,
    webhook_url: str | None,
    state_file: Path | None = None,
) -> SandboxConfig:
    from stripe_sandbox.config import SandboxConfig, WebhookTarget

    webhooks: tuple[WebhookTarget, ...] = ()
    if webhook_url:
        secrets = os.environ.get("STRIPE_WEBHOOK_SECRET", "").split(",")
        secret = secrets[0].strip()
        if not secret:
            typer.secho("--webhook-url needs STRIPE_WEBHOOK_SECRET", fg="red", err=True)
            raise typer.Exit(2)
        webhooks = (WebhookTarget(url=webhook_url, secret=secret),)
    return SandboxConfig(
        host=host, port=port, public_url=public_url, webhooks=webhooks, state_file=state_file
    )


def with_sandbox_prices(settings: BillingSettings, *, wait_s: float = 30.0) -> BillingSettings:
    if not (settings.stripe_api_base and settings.stripe_api_key):
        return settings  # Stripe itself: STRIPE_PRICE_* are the operator's
    try:
        from stripe_sandbox.config import PLAN_LOOKUP_KEYS, PLAN_YEARLY_LOOKUP_KEYS
    except ImportError:  # an image without the sandbox: nothing to look up from
        return settings
    keys = {f"stripe_price_{plan}": key for plan, key in PLAN_LOOKUP_KEYS.items()}
    keys |= {f"stripe_price_{plan}_yearly": key for plan, key in PLAN_YEARLY_LOOKUP_KEYS.items()}
    missing = [setting for setting in keys if not getattr(settings, setting)]
    if not missing:
        return settings
    deadline = time.monotonic() + wait_s
    while True:  # the sandbox may still be starting (compose starts them together)
        try:
            response = httpx.get(
                f"{settings.stripe_api_base.rstrip('/')}/v1/prices",
                params=[("lookup_keys[]", keys[setting]) for setting in missing],
                headers={"Authorization": f"Bearer {settings.stripe_api_key}"},
                timeout=5,
            )
            response.raise_for_status()
            break
        except httpx.HTTPError as exc:
            if time.monotonic() > deadline:
                typer.secho(f"sandbox prices not found ({exc!r})", fg="yellow", err=True)
                return settings  # the service starts as configured, without those plans
            time.sleep(1)
    by_key = {price["lookup_key"]: price["id"] for price in response.json()["data"]}
    found = {setting: by_key[keys[setting]] for setting in missing if keys[setting] in by_key}
    return settings.model_copy(update=found)
