"""Reading the environment for a command: one clear message and exit 2 when it is wrong."""

from __future__ import annotations

import typer
from billing_platform.logs import configure_logging
from billing_platform.serve_checks import check_serve_settings
from billing_platform.settings import BillingSettings, SettingsError, load_settings


def command_settings() -> BillingSettings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def database_settings() -> BillingSettings:
    """Settings for a command that needs DATABASE_URL (exit 2 with a message otherwise)."""
    settings = command_settings()
    if not settings.database_url:
        typer.secho("DATABASE_URL is not set", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    return settings


def serve_settings() -> BillingSettings:
    """Settings for ``billing serve``: also refused for placeholder secrets, default
    passwords and an unbound token audience/issuer (billing_platform.serve_checks)."""
    settings = command_settings()
    try:
        check_serve_settings(settings)
    except SettingsError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    return settings
