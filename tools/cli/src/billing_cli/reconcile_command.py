"""``billing reconcile``: re-read subscriptions from Stripe and repair the projection."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from billing_domain.errors import DomainError
from subscriptions.bootstrap import run_reconcile

from billing_cli.config import database_settings


def reconcile(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many tenants.")] = None,
) -> None:
    """Repair the subscriptions projection from Stripe (for missed webhooks), rate limited."""
    settings = database_settings()
    if not settings.stripe_api_key:
        typer.secho("STRIPE_API_KEY is not set", fg="red", err=True)
        raise typer.Exit(2)
    try:
        report = asyncio.run(run_reconcile(settings, tenant, limit=limit))
    except DomainError as exc:
        typer.secho(f"{exc.code}: {exc.message}", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"checked {report.checked}, repaired {len(report.repaired)}, "
        f"unchanged {report.unchanged}, without subscription {len(report.without_subscription)}, "
        f"failed {len(report.failed)}"
    )
    for tenant_id in report.repaired:
        typer.echo(f"repaired {tenant_id}")
    for tenant_id, error in report.failed.items():
        typer.secho(f"failed {tenant_id}: {error}", fg="red", err=True)
    if report.failed:
        raise typer.Exit(1)
