"""``billing reconcile`` repairs what missed webhooks left behind."""

import asyncio

import pytest
from billing_cli.main import app as cli
from billing_cli.testing.product import Product
from stripe_sandbox.testing import API_KEY
from typer.testing import CliRunner

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_reconcile_repairs_a_change_whose_webhooks_were_lost(
    product: Product, product_database: str, sandbox_prices: dict[str, str]
) -> None:
    tenant = product.new_tenant()
    await product.subscribe(tenant, "team")
    hooks = (await product.stripe.get("/_sandbox/webhooks")).json()["data"]
    for hook in hooks:  # from now on no webhook reaches the product
        await product.stripe.delete(f"/_sandbox/webhooks/{hook['id']}")
    customer = await product.customer_of(tenant)
    subscription = (await product.stripe_get("/v1/subscriptions", customer=customer))["data"][0]
    changed = await product.stripe.post(
        f"/v1/subscriptions/{subscription['id']}", data={"cancel_at_period_end": "true"}
    )
    assert changed.status_code == 200
    assert (await product.subscription(tenant))["cancel_at_period_end"] is False  # stale

    env = {
        "DATABASE_URL": product_database,
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_API_BASE": product.sandbox,
        "STRIPE_PRICE_SOLO": sandbox_prices["solo"],
        "STRIPE_PRICE_TEAM": sandbox_prices["team"],
        "STRIPE_PRICE_ENTERPRISE": sandbox_prices["enterprise"],
        "LOG_LEVEL": "WARNING",
    }
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["reconcile", "--tenant", tenant], env=env
    )
    assert result.exit_code == 0, result.output
    assert f"repaired {tenant}" in result.output
    repaired = await product.subscription(tenant)
    assert (repaired["plan_type"], repaired["cancel_at_period_end"]) == ("team", True)

    again = await asyncio.to_thread(
        CliRunner().invoke, cli, ["reconcile", "--tenant", tenant], env=env
    )
    assert "repaired 0" in again.output  # nothing left to repair
