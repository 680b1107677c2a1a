"""``billing analytics backfill``: opening balances of the MRR ledger from the current
subscriptions projection, read through the subscriptions service's operators' API
(``GET /api/billing/admin/subscriptions``; never its tables) and priced from Stripe's
catalogue. Only tenants the ledger does not know yet are opened: a second run adds
nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import httpx
import typer
from analytics.adapters.subscriptions_api import HttpSubscriptionDirectory
from analytics.backfill import BackfillReport
from analytics.bootstrap import run_backfill, stripe_price_book
from analytics.ports import PriceBook
from billing_domain.auth import ADMIN_SCOPE
from billing_domain.errors import DomainError
from billing_domain.timestamps import parse_rfc3339
from billing_platform.http.tokens import mint_token
from billing_platform.settings import BillingSettings

from billing_cli.config import database_settings

app = typer.Typer(help="The revenue metrics' ledger (services/analytics).", no_args_is_help=True)

TOKEN_SECONDS = 900


def parse_as_of(value: str | None) -> datetime:
    """RFC 3339, or a date (its midnight, UTC); now by default."""
    if value is None:
        return datetime.now(UTC)
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return parse_rfc3339(value, name="--as-of")
    except (ValueError, DomainError):
        raise typer.BadParameter("an RFC 3339 time or a YYYY-MM-DD date") from None


def operator_token(settings: BillingSettings, token: str | None) -> str:
    """``--token`` / ``BILLING_ADMIN_TOKEN``, else one minted with ``JWT_SECRET`` for a
    quarter of an hour (``billing:admin``, subject ``billing-cli``)."""
    if token:
        return token
    if not settings.jwt_secret:
        typer.secho(
            "no operator token: pass --token (BILLING_ADMIN_TOKEN) or set JWT_SECRET",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    return mint_token(
        settings.jwt_secret,
        tenant_id="billing-operators",
        role="member",
        user_id="billing-cli",
        scopes=(ADMIN_SCOPE,),
        ttl_seconds=TOKEN_SECONDS,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )


async def backfill_through(
    settings: BillingSettings,
    *,
    api_url: str,
    token: str,
    prices: PriceBook,
    as_of: datetime,
    transport: httpx.AsyncBaseTransport | None = None,
) -> BackfillReport:
    """``transport``: tests hand the subscriptions app's ASGI transport."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30.0, transport=transport) as http:
        directory = HttpSubscriptionDirectory(http, token)
        return await run_backfill(settings, directory, prices, as_of=as_of)


def print_report(report: BackfillReport) -> None:
    typer.echo(
        f"listed {report.listed}, opened {report.opened}, already known {report.known}, "
        f"not paying {report.not_paying}, without subscription "
        f"{report.without_subscription}, unpriced {len(report.unpriced)}"
    )
    for currency, mrr in sorted(report.opening_mrr.items()):
        typer.echo(f"opening MRR {currency}: {mrr}")
    for tenant_id in report.unpriced:
        typer.secho(f"unpriced {tenant_id}: no configured price for its plan", fg="red", err=True)


@app.command()
def backfill(
    as_of: Annotated[
        str | None,
        typer.Option(help="When the opening balances stand (RFC 3339 or YYYY-MM-DD); now."),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            envvar="BILLING_API_URL",
            help="The gateway (or the subscriptions service); default APP_BASE_URL.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="BILLING_ADMIN_TOKEN", help="A billing:admin token."),
    ] = None,
) -> None:
    """Open the MRR ledger of the tenants it does not know yet (idempotent)."""
    at = parse_as_of(as_of)
    settings = database_settings()
    if not settings.stripe_api_key:
        typer.secho("STRIPE_API_KEY is not set (prices come from Stripe)", fg="red", err=True)
        raise typer.Exit(2)
    bearer = operator_token(settings, token)
    try:
        report = asyncio.run(
            backfill_through(
                settings,
                api_url=api_url or settings.app_base_url,
                token=bearer,
                prices=stripe_price_book(settings),
                as_of=at,
            )
        )
    except DomainError as exc:
        typer.secho(f"{exc.code}: {exc.message}", fg="red", err=True)
        raise typer.Exit(1) from None
    print_report(report)
    if report.unpriced:
        raise typer.Exit(1)
