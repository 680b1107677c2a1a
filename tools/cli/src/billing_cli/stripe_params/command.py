"""``billing stripe audit-params``: print the audit, exit 1 on any finding."""

from __future__ import annotations

import asyncio

import typer

from billing_cli.stripe_params.audit import AuditReport, audit, own_sandbox

app = typer.Typer(help="Stripe: checks of what we send.", no_args_is_help=True)


async def _audit_own_sandbox() -> AuditReport:
    async with own_sandbox() as (url, price_ids):
        return await audit(url, price_ids)


def run() -> int:
    report = asyncio.run(_audit_own_sandbox())
    for line in report.lines():
        typer.echo(line)
    return 0 if report.ok else 1


@app.command("audit-params")
def audit_params() -> None:
    """Every parameter path our Stripe adapters send, checked against the pinned SDK's
    definition (STRIPE_API_VERSION): unknown, deprecated; exit 1 on any."""
    raise typer.Exit(run())
