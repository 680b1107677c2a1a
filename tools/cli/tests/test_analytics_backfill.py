"""``billing analytics backfill`` end to end, on a database of its own: the subscriptions
service's projection read through its operators' API (the real app), prices read from
the Stripe sandbox's catalogue, the opening balances written to the analytics ledger and
read back through the metrics route. Numbers computed by hand; a second run changes
none; a tenant token is refused by the listing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from analytics.bootstrap import stripe_price_book
from analytics.main import create_app as create_analytics
from analytics.schema import MIGRATIONS as ANALYTICS_MIGRATIONS
from asgi_lifespan import LifespanManager
from billing_cli.analytics_commands import backfill_through, operator_token, parse_as_of
from billing_cli.main import app as cli
from billing_domain.errors import RuleViolated
from billing_domain.plans import BillingInterval, PlanType
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_platform.db import create_pool
from billing_platform.http.tokens import mint_token
from billing_platform.messaging.memory import InMemoryBus
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings
from billing_platform.testing.plugin import throwaway_database
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.testing import API_KEY
from subscriptions.adapters.postgres import PgSubscriptionsUnitOfWork
from subscriptions.main import create_app as create_subscriptions
from subscriptions.schema import MIGRATIONS as SUBSCRIPTIONS_MIGRATIONS
from subscriptions.testing import Builders
from typer.testing import CliRunner

pytestmark = pytest.mark.integration

SECRET = "backfill-tests-secret-0123456789abcdef"
AS_OF = datetime(2033, 2, 1, 0, tzinfo=UTC)
API = "http://subscriptions.test"


@pytest.fixture
async def own_database(postgres_server_url: str) -> AsyncIterator[str]:
    """The listing answers every tenant of the database: this test's only."""
    async with throwaway_database(postgres_server_url, "billing_backfill") as url:
        await upgrade_async([SUBSCRIPTIONS_MIGRATIONS, ANALYTICS_MIGRATIONS], url)
        yield url


@pytest.fixture
def settings(
    own_database: str,
    stripe_sandbox: RunningSandbox,
    sandbox_prices: dict[str, str],
    sandbox_yearly_prices: dict[str, str],
) -> BillingSettings:
    assert "team" in sandbox_yearly_prices
    return BillingSettings(
        database_url=own_database,
        jwt_secret=SECRET,
        stripe_api_key=API_KEY,
        stripe_api_base=stripe_sandbox.url,
        stripe_price_solo=sandbox_prices["solo"],
        stripe_price_team=sandbox_prices["team"],
        stripe_price_enterprise=sandbox_prices["enterprise"],
        stripe_price_solo_yearly=sandbox_yearly_prices["solo"],
        # team yearly unset: found by its lookup key, as the subscriptions service does
        stripe_price_enterprise_yearly=sandbox_yearly_prices["enterprise"],
    )


def accounts() -> list[BillingAccount]:
    paid = Builders.paid_account
    return [
        paid("t_solo", plan=PlanType.SOLO),
        paid("t_team_yearly", plan=PlanType.TEAM, interval=BillingInterval.YEAR),
        paid("t_enterprise_past_due", plan=PlanType.ENTERPRISE, status=SubscriptionStatus.PAST_DUE),
        paid("t_team_trial", plan=PlanType.TEAM, status=SubscriptionStatus.TRIALING),
        paid("t_solo_canceled", plan=PlanType.SOLO, status=SubscriptionStatus.CANCELED),
        BillingAccount(tenant_id="t_free"),
    ]


async def seed(url: str) -> None:
    pool = await create_pool(url, max_size=2)
    try:
        async with PgSubscriptionsUnitOfWork(pool) as uow:
            for account in accounts():
                await uow.accounts.save(account)
            await uow.commit()
    finally:
        await pool.close()


async def metrics(settings: BillingSettings, day: str) -> dict[str, Any]:
    token = mint_token(SECRET, tenant_id="ops", role="member", scopes=("billing:admin",))
    async with (
        InMemoryBus() as bus,
        LifespanManager(app := create_analytics(settings, bus=bus)),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as http,
    ):
        answer = await http.get(
            "/api/billing/admin/metrics",
            params={"from": day, "to": day},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_backfill_opens_the_ledger_from_the_projection_once(
    settings: BillingSettings,
) -> None:
    await seed(str(settings.database_url))
    async with (
        InMemoryBus() as bus,
        LifespanManager(subscriptions := create_subscriptions(settings, bus=bus)),
    ):
        transport = httpx.ASGITransport(app=subscriptions)

        async def run() -> Any:
            return await backfill_through(
                settings,
                api_url=API,
                token=operator_token(settings, None),
                prices=stripe_price_book(settings),
                as_of=AS_OF,
                transport=transport,
            )

        tenant_token = mint_token(SECRET, tenant_id="t_solo", role="owner")
        with pytest.raises(RuleViolated) as refused:
            await backfill_through(
                settings,
                api_url=API,
                token=tenant_token,
                prices=stripe_price_book(settings),
                as_of=AS_OF,
                transport=transport,
            )
        assert refused.value.code == "token_refused"

        first = await run()
        # the sandbox's catalogue: solo 900 a month, team 29,000 a year (2,416.67 -> 2,417
        # a month), enterprise 9,900 a month (past due still counts)
        opening = 900 + 2417 + 9900
        assert first.opening_mrr == {"usd": opening}
        assert (first.listed, first.opened, first.not_paying) == (6, 3, 2)
        assert (first.without_subscription, first.unpriced, first.known) == (1, [], 0)
        body = await metrics(settings, "2033-02-01")
        point = body["currencies"]["usd"]["series"][0]
        assert (point["mrr"], point["arr"], point["paying_subscriptions"]) == (
            opening,
            12 * opening,
            3,
        )
        assert point["active_subscriptions"] == {"solo": 1, "team": 1, "enterprise": 1}
        assert point["new_mrr"] == 0  # an opening balance is not new business
        assert body["currencies"]["usd"]["totals"]["opening_mrr"] == 0
        the_day_after = await metrics(settings, "2033-02-02")
        assert the_day_after["currencies"]["usd"]["totals"]["opening_mrr"] == opening

        second = await run()
        assert (second.opened, second.known, second.opening_mrr) == (0, 5, {})
        assert await metrics(settings, "2033-02-01") == body


def test_as_of_reads_a_date_or_a_time() -> None:
    assert parse_as_of("2033-02-01") == AS_OF
    assert parse_as_of("2033-02-01T00:00:00Z") == AS_OF


def test_without_a_token_or_a_secret_the_command_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_x")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.delenv("BILLING_ADMIN_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["analytics", "backfill"])
    assert result.exit_code == 2, result.output
    assert "BILLING_ADMIN_TOKEN" in result.output
    bad = CliRunner().invoke(cli, ["analytics", "backfill", "--as-of", "yesterday"])
    assert bad.exit_code == 2
