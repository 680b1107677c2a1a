"""The ``billing`` command (typer): the composition root of the whole product."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from billing_platform.http.jwt_keys import KeyConfigError
from billing_platform.migrations import upgrade

from billing_cli import (
    analytics_commands,
    events_commands,
    prune_command,
    reconcile_command,
    webhooks_commands,
)
from billing_cli.config import command_settings, database_settings, serve_settings
from billing_cli.gateway import DevGateway
from billing_cli.sandbox_serve import sandbox_config, with_sandbox_prices
from billing_cli.services import SERVICES
from billing_cli.stripe_params import command as stripe_params_command

SANDBOX_PORT = 12111  # billing_cli.dev's default too; that module is not in every image
NO_BROKER = (
    "AMQP_URL is not set: billing serve needs RabbitMQ (on an in-memory bus the outbox "
    "would mark billing events sent that reach no other process). The in-memory bus is "
    "for billing dev and tests only."
)

app = typer.Typer(
    help="Billing platform: run, migrate and operate the services.", no_args_is_help=True
)


class Service(StrEnum):
    checkout = "checkout"
    subscriptions = "subscriptions"
    webhooks = "webhooks"
    analytics = "analytics"
    notifications = "notifications"


class Servable(StrEnum):
    checkout = "checkout"
    subscriptions = "subscriptions"
    webhooks = "webhooks"
    analytics = "analytics"
    notifications = "notifications"
    sandbox = "sandbox"


@app.command()
def migrate(
    service: Annotated[Service | None, typer.Argument(help="Only this service's schema.")] = None,
) -> None:
    """Apply alembic migrations (every service's schema, or one) to DATABASE_URL."""
    settings = database_settings()
    assert settings.database_url is not None
    names = [service.value] if service else list(SERVICES)
    for name in names:
        upgrade(SERVICES[name].migrations, settings.database_url)
        typer.echo(f"{name}: migrated to head")


@app.command()
def serve(
    service: Annotated[Servable, typer.Argument(help="What to run.")],
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: the service's own).")] = None,
    public_url: Annotated[
        str | None, typer.Option(help="sandbox: base of the page URLs it hands out.")
    ] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="sandbox: deliver webhooks here (STRIPE_WEBHOOK_SECRET).")
    ] = None,
    state_file: Annotated[
        Path | None,
        typer.Option(help="sandbox: keep its objects in this SQLite file across restarts."),
    ] = None,
) -> None:
    """Run one service (or the Stripe sandbox) as its own process, configured by env vars."""
    if service is Servable.sandbox:
        try:
            from stripe_sandbox.server import serve as serve_sandbox
        except ImportError:  # the production image: build the sandbox target for it
            typer.secho("the Stripe sandbox is not part of this installation", fg="red", err=True)
            raise typer.Exit(2) from None
        config = sandbox_config(
            host,
            port or 12111,
            public_url=public_url,
            webhook_url=webhook_url,
            state_file=state_file,
        )
        serve_sandbox(config)
        return
    settings = with_sandbox_prices(serve_settings())
    if not settings.amqp_url:
        typer.secho(NO_BROKER, fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    spec = SERVICES[service.value]
    try:
        application = spec.create_app(settings)
    except KeyConfigError as exc:  # an unparsable JWT key: refuse to start, not 401 forever
        typer.secho(f"refusing to start: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        application,
        host=host,
        port=port or spec.default_port,
        log_config=None,
        access_log=False,  # requests are counted and timed in /metrics instead
        proxy_headers=True,
    )


@app.command()
def dev(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the gateway.")] = 8000,
    sandbox_port: Annotated[
        int, typer.Option(help="Port of the Stripe sandbox (when STRIPE_API_KEY is unset).")
    ] = SANDBOX_PORT,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote",
            help="Let --host be a non-loopback interface: anyone who reaches it can mint "
            "tokens for any tenant (valid on this server only).",
        ),
    ] = False,
) -> None:
    """Everything in one process on the gateway's paths, with embedded defaults."""
    try:
        from billing_cli import dev as dev_mode
    except ImportError:  # the production image leaves the dev server out
        typer.secho("billing dev is not part of this installation", fg="red", err=True)
        raise typer.Exit(2) from None
    problem = dev_mode.bind_problem(host, allow_remote)
    if problem:
        typer.secho(problem, fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    provided = command_settings()
    with ExitStack() as stack:
        settings = dev_mode.dev_settings(provided, stack, dev_mode.STATE_DIR, host, port)
        settings = dev_mode.with_sandbox(settings, stack, dev_mode.STATE_DIR, port, sandbox_port)
        gateway = dev_mode.dev_gateway(settings)
        typer.echo(dev_mode.banner(settings, host, port, provided=provided))
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: a clean stop, exit 0
            asyncio.run(_serve(gateway, host, port))
        typer.echo("billing dev stopped")


async def _serve(gateway: DevGateway, host: str, port: int) -> None:
    config = uvicorn.Config(gateway, host=host, port=port, log_config=None, lifespan="on")
    await uvicorn.Server(config).serve()


app.add_typer(webhooks_commands.app, name="webhooks")
app.command()(reconcile_command.reconcile)
app.command()(prune_command.prune)
app.add_typer(events_commands.app, name="events")
app.add_typer(stripe_params_command.app, name="stripe")
app.add_typer(analytics_commands.app, name="analytics")

if __name__ == "__main__":
    app()
