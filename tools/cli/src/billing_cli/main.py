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
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.migrations import upgrade

from billing_cli import events_commands, reconcile_command, webhooks_commands
from billing_cli.config import command_settings, database_settings
from billing_cli.dev import SANDBOX_PORT, STATE_DIR, banner, dev_settings, with_sandbox
from billing_cli.gateway import DevGateway
from billing_cli.sandbox_serve import sandbox_config, with_sandbox_prices
from billing_cli.services import SERVICES
from billing_cli.stripe_params import command as stripe_params_command
from billing_cli.web import dev_web_app

app = typer.Typer(
    help="Billing platform: run, migrate and operate the services.", no_args_is_help=True
)


class Service(StrEnum):
    checkout = "checkout"
    subscriptions = "subscriptions"
    webhooks = "webhooks"


class Servable(StrEnum):
    checkout = "checkout"
    subscriptions = "subscriptions"
    webhooks = "webhooks"
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
        from stripe_sandbox.server import serve as serve_sandbox

        config = sandbox_config(
            host,
            port or 12111,
            public_url=public_url,
            webhook_url=webhook_url,
            state_file=state_file,
        )
        serve_sandbox(config)
        return
    settings = with_sandbox_prices(command_settings())
    spec = SERVICES[service.value]
    uvicorn.run(
        spec.create_app(settings),
        host=host,
        port=port or spec.default_port,
        log_config=None,
        access_log=False,  # requests are counted and timed in /metrics instead
        proxy_headers=True,
    )


@app.command()
def dev(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the gateway.")] = 8000,
    sandbox_port: Annotated[
        int, typer.Option(help="Port of the Stripe sandbox (when STRIPE_API_KEY is unset).")
    ] = SANDBOX_PORT,
) -> None:
    """Everything in one process on the gateway's paths, with embedded defaults."""
    settings = command_settings()
    with ExitStack() as stack:
        settings = dev_settings(settings, stack, STATE_DIR, host, port)
        settings = with_sandbox(settings, stack, STATE_DIR, port, sandbox_port)
        assert settings.database_url is not None
        for spec in SERVICES.values():
            upgrade(spec.migrations, settings.database_url)
        bus = InMemoryBus() if not settings.amqp_url else None
        gateway = DevGateway(
            [
                (prefix, application)
                for spec in SERVICES.values()
                for application in [spec.create_app(settings, bus=bus)]
                for prefix in spec.routes
            ],
            fallback=dev_web_app(settings),  # web/ and the dev-only sign-in
        )
        typer.echo(banner(settings, host, port))
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: a clean stop, exit 0
            asyncio.run(_serve(gateway, host, port))
        typer.echo("billing dev stopped")


async def _serve(gateway: DevGateway, host: str, port: int) -> None:
    config = uvicorn.Config(gateway, host=host, port=port, log_config=None, lifespan="on")
    await uvicorn.Server(config).serve()


app.add_typer(webhooks_commands.app, name="webhooks")
app.command()(reconcile_command.reconcile)
app.add_typer(events_commands.app, name="events")
app.add_typer(stripe_params_command.app, name="stripe")

if __name__ == "__main__":
    app()
