"""With a state file, a restarted sandbox still knows its customers, subscriptions and clock."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import stripe
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.server import running
from stripe_sandbox.testing import API_KEY, DAY, Journey

pytestmark = pytest.mark.e2e


def _journey(url: str, http: httpx.AsyncClient) -> Journey:
    client = stripe.StripeClient(
        API_KEY, base_addresses={"api": url}, http_client=stripe.HTTPXClient()
    )
    return Journey(client, http)


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(port=0, state_file=tmp_path / "sandbox.sqlite3")
    async with (
        running(config) as first,
        httpx.AsyncClient(
            base_url=first.url, headers={"Authorization": f"Bearer {API_KEY}"}
        ) as http,
    ):
        journey = _journey(first.url, http)
        sub = await journey.subscribe("team_monthly")
        await journey.advance(3 * DAY)
        clock = (await http.get("/_sandbox/clock")).json()["now"]
        session_count = len((await journey.client.v1.checkout.sessions.list_async()).data)

    async with (
        running(config) as second,
        httpx.AsyncClient(
            base_url=second.url, headers={"Authorization": f"Bearer {API_KEY}"}
        ) as http,
    ):
        journey = _journey(second.url, http)
        again = await journey.client.v1.subscriptions.retrieve_async(sub.id)
        assert again.status == "active"
        assert again.customer == sub.customer
        assert (await http.get("/_sandbox/clock")).json()["now"] >= clock
        prices = await journey.client.v1.prices.list_async(params={"limit": 100})
        assert len(prices.data) == 6  # seeded once (3 plans x month, year), not again on restart
        sessions = await journey.client.v1.checkout.sessions.list_async()
        assert len(sessions.data) == session_count
        await journey.advance(30 * DAY)
        renewed = await journey.client.v1.invoices.list_async(params={"subscription": sub.id})
        assert len(renewed.data) == 2
