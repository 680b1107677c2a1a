"""``billing events tail``: watch billing events flow on the exchange.

Binds a temporary (exclusive, auto-deleted) queue to ``BILLING_EXCHANGE`` on
``AMQP_URL`` with binding keys ``billing.<type>`` (topic wildcards allowed:
``subscription.*``, ``invoice.#``), prints each event as one JSON line (the
envelope as published) or a readable line with ``--pretty``, and stops on Ctrl-C
or after ``--count N``. It takes copies: the services' own queues lose nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any

import aio_pika
import typer
from aio_pika.exceptions import AMQPConnectionError
from billing_domain.events import ROUTING_PREFIX

from billing_cli import dlq_commands
from billing_cli.config import command_settings

app = typer.Typer(help="Billing events on the bus.", no_args_is_help=True)
app.add_typer(dlq_commands.app, name="dlq")


def binding_keys(types: list[str]) -> list[str]:
    """``subscription.*`` -> ``billing.subscription.*``; nothing -> every event."""
    return [ROUTING_PREFIX + t.removeprefix(ROUTING_PREFIX) for t in types] or [
        ROUTING_PREFIX + "#"
    ]


def render(body: bytes, routing_key: str, *, pretty: bool) -> str:
    try:
        envelope: Any = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        raw = body.decode("utf-8", "replace")
        return json.dumps({"routing_key": routing_key, "unreadable_body": raw})
    if not pretty:
        return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    data = json.dumps(envelope.get("data"), ensure_ascii=False, sort_keys=True)
    return (
        f"{envelope.get('occurred_at')}  {envelope.get('type')}  "
        f"tenant={envelope.get('tenant_id')} source={envelope.get('source')} "
        f"id={envelope.get('id')} causation={envelope.get('causation_id')}\n    data={data}"
    )


@app.command()
def tail(
    event_type: Annotated[
        list[str] | None,
        typer.Option(
            "--type", help="Only this type; wildcards * (one word) and # (any). Repeatable."
        ),
    ] = None,
    count: Annotated[int | None, typer.Option(min=1, help="Stop after this many events.")] = None,
    pretty: Annotated[bool, typer.Option(help="Readable lines instead of JSON.")] = False,
) -> None:
    """Print billing events as they flow (AMQP_URL, BILLING_EXCHANGE), until Ctrl-C."""
    settings = command_settings()
    if not settings.amqp_url:
        typer.secho("AMQP_URL is not set", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    keys = binding_keys(event_type or [])
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(_tail(settings.amqp_url, settings.billing_exchange, keys, count, pretty))
        except (OSError, AMQPConnectionError) as exc:
            typer.secho(f"RabbitMQ unreachable at AMQP_URL: {exc!r}", fg="red", err=True)
            raise typer.Exit(1) from None


async def _tail(
    url: str, exchange_name: str, keys: list[str], count: int | None, pretty: bool
) -> None:
    connection = await aio_pika.connect(url, timeout=10)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in keys:
            await queue.bind(exchange, routing_key=key)
        typer.echo(f"listening on {exchange_name} ({', '.join(keys)})", err=True)
        seen = 0
        async with queue.iterator(no_ack=True) as messages:
            async for message in messages:
                typer.echo(render(message.body, message.routing_key or "", pretty=pretty))
                seen += 1
                if count is not None and seen >= count:
                    return
