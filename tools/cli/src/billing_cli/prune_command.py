"""``billing prune``: delete what the retention periods no longer keep.

``RETENTION_OUTBOX_DAYS`` (7): sent outbox rows; ``RETENTION_INBOX_DAYS`` (30): inbox
message ids; ``RETENTION_EVENT_PAYLOAD_DAYS`` (30): the payloads (customer data) of
processed Stripe events (the rows stay). Unsent, parked, failed and waiting data is
never pruned. Run it daily: ``--every 86400`` keeps it running (docker-compose's
``retention`` service), or schedule ``billing prune`` (cron, a Kubernetes CronJob).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import structlog
import typer
from billing_platform.db import create_pool
from billing_platform.retention import DEFAULT_INBOX_DAYS, DEFAULT_OUTBOX_DAYS, prune_messaging
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from webhooks.adapters.retention import DEFAULT_PAYLOAD_DAYS, clear_old_payloads

from billing_cli.config import database_settings
from billing_cli.services import SERVICES

log = structlog.get_logger("billing_cli.prune")


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETENTION_", extra="ignore")

    outbox_days: int = Field(default=DEFAULT_OUTBOX_DAYS, ge=1)
    inbox_days: int = Field(default=DEFAULT_INBOX_DAYS, ge=1)
    event_payload_days: int = Field(default=DEFAULT_PAYLOAD_DAYS, ge=1)


def prune(
    every: Annotated[
        float | None,
        typer.Option(help="Keep running: prune again every this many seconds (86400: daily)."),
    ] = None,
) -> None:
    """Delete sent outbox rows, old inbox ids and old processed events' payloads."""
    settings = database_settings()
    assert settings.database_url is not None
    try:
        retention = RetentionSettings()
    except ValidationError as exc:
        typer.secho(f"RETENTION_*: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None
    while True:
        for line in asyncio.run(prune_once(settings.database_url, retention)):
            typer.echo(line)
        if every is None:
            return
        time.sleep(every)


async def prune_once(database_url: str, retention: RetentionSettings) -> list[str]:
    """One pass over every service's schema; a line per schema of what went."""
    pool = await create_pool(database_url, max_size=2)
    lines = []
    try:
        for name in SERVICES:
            pruned = await prune_messaging(
                pool, name, outbox_days=retention.outbox_days, inbox_days=retention.inbox_days
            )
            payloads = 0
            if name == "webhooks":
                payloads = await clear_old_payloads(pool, days=retention.event_payload_days)
            log.info(
                "retention.pruned",
                schema=name,
                outbox=pruned.outbox,
                inbox=pruned.inbox,
                event_payloads=payloads,
            )
            lines.append(
                f"{name}: {pruned.outbox} outbox rows, {pruned.inbox} inbox ids"
                + (f", {payloads} event payloads" if name == "webhooks" else "")
            )
    finally:
        await pool.close()
    return lines
