"""The whole product wired as in ``billing dev``, but on real RabbitMQ: the three
services behind the in-process gateway (served over HTTP so the Stripe sandbox can
deliver signed webhooks to it), a stand-in consumer recording every billing event."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from billing_cli.gateway import DevGateway
from billing_cli.mail_catcher import MailCatcher
from billing_cli.services import SERVICES
from billing_cli.testing.product import JWT_SECRET, WEBHOOK_SECRETS, Product
from billing_platform.migrations import upgrade_async
from billing_platform.settings import BillingSettings
from billing_platform.testing.collector import EventCollector
from stripe_sandbox.config import PLAN_YEARLY_LOOKUP_KEYS
from stripe_sandbox.pytest_plugin import plan_price_ids
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.testing import API_KEY, serve_app

DAY = 86_400


@pytest.fixture(scope="session")
async def product_database(database_url: str) -> str:
    await upgrade_async([spec.migrations for spec in SERVICES.values()], database_url)
    return database_url


@pytest.fixture
async def fresh_sandbox(stripe_sandbox: RunningSandbox) -> RunningSandbox:
    """The session's sandbox, reset: no earlier journey's customers, subscriptions or
    clock. Without it every clock advance renews every subscription the session ever
    made, and a journey late in the run waits behind thousands of other tenants'
    webhooks (its own arrived after the 20 s its assertions wait)."""
    async with httpx.AsyncClient(
        base_url=stripe_sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:
        reset = await http.post("/_sandbox/reset")
        assert reset.status_code == 200, reset.text
    return stripe_sandbox


@pytest.fixture
async def sandbox_prices(fresh_sandbox: RunningSandbox) -> dict[str, str]:
    """The plugin's fixture, after the reset (a reset re-seeds prices with new ids)."""
    return await plan_price_ids(fresh_sandbox)


@pytest.fixture
async def sandbox_yearly_prices(fresh_sandbox: RunningSandbox) -> dict[str, str]:
    return await plan_price_ids(fresh_sandbox, PLAN_YEARLY_LOOKUP_KEYS)


@pytest.fixture
async def product(
    request: pytest.FixtureRequest,
    product_database: str,
    amqp_url: str,
    exchange_name: str,
    stripe_sandbox: RunningSandbox,
    sandbox_prices: dict[str, str],
) -> AsyncIterator[Product]:
    mail = None
    if request.node.get_closest_marker("mail_catcher"):  # notifications sends to it
        mail = MailCatcher()
        await mail.start()
    settings = BillingSettings(
        database_url=product_database,
        amqp_url=amqp_url,
        billing_exchange=exchange_name,
        stripe_api_key=API_KEY,
        stripe_api_base=stripe_sandbox.url,
        stripe_webhook_secret=WEBHOOK_SECRETS,
        stripe_price_solo=sandbox_prices["solo"],
        stripe_price_team=sandbox_prices["team"],
        stripe_price_enterprise=sandbox_prices["enterprise"],
        jwt_secret=JWT_SECRET,
        app_base_url="http://app.test",
        smtp_url=None if mail is None else mail.url,
    )
    gateway = DevGateway(
        [
            (prefix, app)
            for spec in SERVICES.values()
            for app in [spec.create_app(settings)]
            for prefix in spec.routes
        ]
    )
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with contextlib.AsyncExitStack() as stack:
        if mail is not None:
            stack.push_async_callback(mail.close)
        events = await stack.enter_async_context(EventCollector(amqp_url, exchange_name))
        base = await stack.enter_async_context(serve_app(gateway))  # type: ignore[arg-type]
        stripe_http = await stack.enter_async_context(
            httpx.AsyncClient(base_url=stripe_sandbox.url, headers=headers, timeout=30)
        )
        api = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
        if request.node.get_closest_marker("no_sandbox_webhooks"):
            yield Product(base, stripe_sandbox.url, api, stripe_http, events)
            return
        hook = await stripe_http.post(
            "/_sandbox/webhooks",
            json={"url": f"{base}/api/webhooks/stripe", "secret": WEBHOOK_SECRETS[0]},
        )
        assert hook.status_code == 200, hook.text
        try:
            yield Product(base, stripe_sandbox.url, api, stripe_http, events)
        finally:
            await stripe_http.delete(f"/_sandbox/webhooks/{hook.json()['id']}")


@pytest.fixture
def now() -> Callable[[], int]:
    return lambda: int(time.time())
