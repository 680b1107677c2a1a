"""``billing events dlq list|replay --queue Q``: a consumer queue's dead letters.

``Q`` is the consumer's queue (its dead letters are in ``Q.dlq``; either name is
taken). ``list`` prints each dead letter and leaves it there; ``replay`` republishes
to ``BILLING_EXCHANGE`` with the same message id and routing key (consumers'
inboxes drop what they applied already) and removes a letter only once the broker
confirmed its republish. The broker logic is ``billing_platform.messaging.dead_letters``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from aio_pika.exceptions import AMQPConnectionError, ChannelNotFoundEntity, DeliveryError
from billing_platform.messaging.dead_letters import (
    DeadLetter,
    DeadLetterQueueMissingError,
    dlq_name,
    list_dead_letters,
    replay_dead_letters,
)

from billing_cli.config import command_settings

app = typer.Typer(help="Dead-lettered billing events: list and replay.", no_args_is_help=True)
T = TypeVar("T")

QueueOption = Annotated[
    str, typer.Option("--queue", help="The consumer's queue (its dead letters are Q.dlq).")
]


def _amqp_url() -> tuple[str, str]:
    settings = command_settings()
    if not settings.amqp_url:
        typer.secho("AMQP_URL is not set", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    return settings.amqp_url, settings.billing_exchange


def _run(make: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await make()

    try:
        return asyncio.run(main())
    except DeadLetterQueueMissingError as exc:
        typer.secho(f"{exc}: is the queue name right?", fg="red", err=True)
        raise typer.Exit(1) from None
    except ChannelNotFoundEntity as exc:  # BILLING_EXCHANGE names no exchange on this broker
        typer.secho(f"not on the broker: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    except DeliveryError as exc:
        typer.secho(f"the broker refused a republish, it stays dead: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    except (OSError, AMQPConnectionError) as exc:
        typer.secho(f"RabbitMQ unreachable at AMQP_URL: {exc!r}", fg="red", err=True)
        raise typer.Exit(1) from None


def render(letter: DeadLetter) -> str:
    died = letter.first_death_at.isoformat() if letter.first_death_at else "-"
    return (
        f"{letter.message_id or '-'}  {letter.type or '-'}  tenant={letter.tenant_id or '-'} "
        f"source={letter.source or '-'} reason={letter.reason or '-'} "
        f"deaths={letter.death_count} first_death={died} routing_key={letter.routing_key}"
    )


@app.command("list")
def list_(
    queue: QueueOption,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print the dead letters of a consumer's queue (they stay where they are)."""
    url, _ = _amqp_url()
    letters = _run(lambda: list_dead_letters(url, queue))
    for letter in letters:
        typer.echo(json.dumps(letter.as_json()) if as_json else render(letter))
    typer.echo(f"{len(letters)} dead letter(s) in {dlq_name(queue)}", err=True)


@app.command()
def replay(
    queue: QueueOption,
    message_id: Annotated[
        list[str] | None,
        typer.Option("--message-id", help="Replay this message (repeatable)."),
    ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
) -> None:
    """Republish dead letters to the billing exchange (same message id and routing key)."""
    if bool(message_id) == replay_all:
        typer.secho("give --message-id ID (repeatable) or --all", fg="red", err=True)
        raise typer.Exit(2)
    url, exchange = _amqp_url()
    wanted = None if replay_all else set(message_id or [])
    replayed = _run(lambda: replay_dead_letters(url, exchange, queue, message_ids=wanted))
    for letter in replayed:
        typer.echo(f"replayed {letter.message_id} ({letter.routing_key})")
    missing = sorted((wanted or set()) - {letter.message_id for letter in replayed})
    for absent in missing:
        typer.secho(f"not in {dlq_name(queue)}: {absent}", fg="yellow", err=True)
    typer.echo(f"{len(replayed)} message(s) republished to {exchange}")
    if missing:
        raise typer.Exit(1)
