"""``billing stripe audit-params``: print the audit, exit 1 on any finding.

The audit needs the Stripe sandbox (and reads its definition of Stripe's
parameters), which production installations leave out: it is imported only
when the command runs.
"""

from __future__ import annotations

import asyncio

import typer

app = typer.Typer(help="Stripe: checks of what we send.", no_args_is_help=True)


def run() -> int:
    from billing_cli.stripe_params.audit import audit, own_sandbox

    async def audit_own_sandbox() -> tuple[list[str], bool]:
        async with own_sandbox() as (url, price_ids):
            report = await audit(url, price_ids)
        return report.lines(), report.ok

    lines, ok = asyncio.run(audit_own_sandbox())
    for line in lines:
        typer.echo(line)
    return 0 if ok else 1


@app.command("audit-params")
def audit_params() -> None:
    """Every parameter path our Stripe adapters send, checked against the pinned SDK's
    definition (STRIPE_API_VERSION): unknown, deprecated; exit 1 on any."""
    raise typer.Exit(run())
