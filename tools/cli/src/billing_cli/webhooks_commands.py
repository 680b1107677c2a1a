"""``billing webhooks ...``: operators' commands on the webhook event log."""

from __future__ import annotations

import asyncio
import getpass
from enum import StrEnum
from typing import Annotated

import typer
from billing_domain.errors import DomainError
from billing_domain.webhook_log import WebhookEventStatus
from billing_platform.clock import SystemClock
from billing_platform.db import create_pool
from webhooks.adapters.postgres import PgWebhooksUnitOfWork
from webhooks.use_cases.operations import replay_by_status, replay_event

from billing_cli.config import database_settings

app = typer.Typer(help="Operate the webhooks service's event log.", no_args_is_help=True)


class ReplayableStatus(StrEnum):
    failed = "failed"
    parked = "parked"


@app.command()
def replay(
    status: Annotated[
        ReplayableStatus | None, typer.Option(help="Replay every event in this status.")
    ] = None,
    event_id: Annotated[
        list[str] | None, typer.Option("--event-id", help="Replay this event (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many events by status.")] = 1000,
    parked: Annotated[bool, typer.Option("--parked", help="Same as --status parked.")] = False,
    failed: Annotated[bool, typer.Option("--failed", help="Same as --status failed.")] = False,
) -> None:
    """Send failed or parked events back to the worker (it processes them at once)."""
    shorthand = [
        s
        for s, given in ((ReplayableStatus.parked, parked), (ReplayableStatus.failed, failed))
        if given
    ]
    if len(shorthand) > 1 or (shorthand and status not in (None, shorthand[0])):
        typer.secho("give one status: --status, --parked or --failed", fg="red", err=True)
        raise typer.Exit(2)
    status = shorthand[0] if shorthand else status
    if status is None and not event_id:
        typer.secho(
            "give --status failed|parked (or --parked, --failed) or --event-id evt_...",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    settings = database_settings()
    assert settings.database_url is not None
    try:
        replayed = asyncio.run(_replay(settings.database_url, status, event_id or [], limit))
    except DomainError as exc:
        typer.secho(f"{exc.code}: {exc.message}", fg="red", err=True)
        raise typer.Exit(1) from None
    for replayed_id in replayed:
        typer.echo(f"replayed {replayed_id}")
    typer.echo(f"{len(replayed)} event(s) sent back to the worker")


async def _replay(
    database_url: str, status: ReplayableStatus | None, event_ids: list[str], limit: int
) -> list[str]:
    pool = await create_pool(database_url, max_size=2)
    clock = SystemClock()
    try:

        def uow() -> PgWebhooksUnitOfWork:
            return PgWebhooksUnitOfWork(pool)

        actor = f"cli:{getpass.getuser()}"  # audited in webhooks.event_replays
        replayed = [
            (await replay_event(e, uow(), clock, actor=actor)).record.event_id for e in event_ids
        ]
        if status is not None:
            replayed += await replay_by_status(
                WebhookEventStatus(status.value), uow, clock, actor=actor, limit=limit
            )
        return replayed
    finally:
        await pool.close()
