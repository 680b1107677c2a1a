"""``billing webhooks ...``: operators' commands on the webhook event log."""

from __future__ import annotations

import asyncio
import getpass
import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

import typer
from billing_domain.errors import DomainError
from billing_domain.webhook_log import WebhookEventStatus
from billing_platform.clock import SystemClock
from billing_platform.db import create_pool
from billing_platform.settings import BillingSettings
from billing_platform.stripe_gateway import StripeCaller
from webhooks.adapters.postgres import PgStripeEventStore, PgWebhooksUnitOfWork
from webhooks.adapters.stripe import StripeEventFeed
from webhooks.catch_up import CatchUpReport, catch_up
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


_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``72h``, ``7d``."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise typer.BadParameter("a duration such as 30m, 72h or 7d", param_hint="--since")
    return timedelta(seconds=int(found[1]) * _UNIT_SECONDS[found[2]])


@app.command("catch-up")
def catch_up_command(
    since: Annotated[
        str, typer.Option(help="How far back: 30m, 72h, 7d (at most 30d, Stripe's window).")
    ] = "72h",
    undelivered: Annotated[
        bool,
        typer.Option(
            "--undelivered", help="Only events Stripe failed to deliver (delivery_success=false)."
        ),
    ] = False,
) -> None:
    """Store the Stripe events that never arrived (Stripe's /v1/events); the worker
    processes them like deliveries. Events already stored are left alone."""
    window = parse_duration(since)
    settings = database_settings()
    if not settings.stripe_api_key:
        typer.secho("STRIPE_API_KEY is not set", fg="red", err=True)
        raise typer.Exit(2)
    try:
        report = asyncio.run(_catch_up(settings, window, undelivered))
    except DomainError as exc:
        typer.secho(f"{exc.code}: {exc.message}", fg="red", err=True)
        raise typer.Exit(2 if exc.code == "catch_up_window" else 1) from None
    for event_id in report.new:
        typer.echo(f"stored {event_id}")
    typer.echo(
        f"seen {report.seen} event(s), {len(report.new)} new "
        f"({report.other_types} of other types and {report.malformed} malformed left alone)"
    )


async def _catch_up(
    settings: BillingSettings, since: timedelta, undelivered: bool
) -> CatchUpReport:
    assert settings.database_url is not None
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        feed = StripeEventFeed(StripeCaller.from_settings(settings))
        store = PgStripeEventStore(pool, notify_interval=0.0)  # each insert wakes a worker
        return await catch_up(feed, store, SystemClock(), since=since, undelivered=undelivered)
    finally:
        await pool.close()
