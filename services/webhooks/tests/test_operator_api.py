"""GET /api/webhooks/events and POST .../replay: billing:admin only, filters, cursor."""

from typing import Any

import pytest
from billing_platform.http.tokens import mint_token
from billing_platform.testing.clock import FakeClock
from billing_platform.testing.waiting import wait_until
from webhooks.testing import Builders, FakeStripeReader, RunningWebhooks, StartWebhooks

pytestmark = pytest.mark.integration

JWT = "j" * 32


def _auth(**claims: Any) -> dict[str, str]:
    token = mint_token(JWT, tenant_id=claims.pop("tenant_id", "ops"), **claims)
    return {"Authorization": f"Bearer {token}"}


ADMIN = {"role": "admin", "scopes": ["billing:admin"]}


async def test_only_billing_admins_see_and_replay(start_webhooks: StartWebhooks) -> None:
    async with start_webhooks() as hooks:
        c = hooks.client
        assert (await c.get("/api/webhooks/events")).status_code == 401
        assert (
            await c.get("/api/webhooks/events", headers={"Authorization": "Bearer x"})
        ).status_code == 401
        for role in ("owner", "admin", "member"):
            denied = await c.get("/api/webhooks/events", headers=_auth(role=role))
            assert denied.status_code == 403, role
        replay = await c.post("/api/webhooks/events/evt_1/replay", headers=_auth(role="owner"))
        assert replay.status_code == 403
        assert (await c.get("/api/webhooks/events", headers=_auth(**ADMIN))).status_code == 200


async def test_filters_and_cursor_pages(
    start_webhooks: StartWebhooks, build: type[Builders]
) -> None:
    async with start_webhooks() as hooks:
        for n in range(5):
            await hooks.post_event(build.event("invoice.paid", build.invoice(tenant=f"t{n}")))
        await hooks.post_event(build.event("plan.created", {"id": "plan_1", "object": "plan"}))
        await hooks.post_event(build.event("invoice.paid", build.invoice(customer="cus_nobody")))
        headers = _auth(**ADMIN)

        async def listed(**params: Any) -> Any:
            response = await hooks.client.get(
                "/api/webhooks/events", params=params, headers=headers
            )
            assert response.status_code == 200, response.text
            return response.json()

        async def settled() -> bool:
            page = await listed(limit=50)
            return all(e["status"] not in ("pending", "retrying") for e in page["events"])

        assert await wait_until(settled, timeout=10)
        parked = await listed(status="parked")
        assert [e["status"] for e in parked["events"]] == ["parked"]
        assert "cus_nobody" in parked["events"][0]["note"]
        typed = await listed(type="plan.created")
        assert [e["note"] for e in typed["events"]] == ["ignored"]
        first = await listed(limit=3, type="invoice.paid")
        assert len(first["events"]) == 3
        second = await listed(limit=3, type="invoice.paid", cursor=first["next_cursor"])
        assert len(second["events"]) == 3
        assert second["next_cursor"] is None
        seen = [e["event_id"] for e in first["events"] + second["events"]]
        assert len(set(seen)) == 6


async def test_bad_filters_are_422(start_webhooks: StartWebhooks) -> None:
    async with start_webhooks() as hooks:
        headers = _auth(**ADMIN)
        for params in (
            {"status": "exploded"},
            {"limit": 0},
            {"limit": 10_000},
            {"cursor": "abc"},
            # Regressions (tests/hostile), both were 500s: beyond bigint the query failed,
            # and str.isdigit() accepts digits int() refuses ("²").
            {"cursor": "9" * 20},
            {"cursor": str(2**63)},
            {"cursor": "\u00b2"},
            {"cursor": "\uff11"},
        ):
            response = await hooks.client.get(
                "/api/webhooks/events", params=params, headers=headers
            )
            assert response.status_code == 422, params
            assert "error" in response.json()


async def test_a_type_filter_with_a_nul_is_422(start_webhooks: StartWebhooks) -> None:
    """Regression (tests/hostile): Postgres text refuses U+0000, so this filter was a 500."""
    async with start_webhooks() as hooks:
        response = await hooks.client.get(
            "/api/webhooks/events", params={"type": "invoice\x00paid"}, headers=_auth(**ADMIN)
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_request"
        ok = await hooks.client.get(
            "/api/webhooks/events", params={"type": "invoice.paid"}, headers=_auth(**ADMIN)
        )
        assert ok.status_code == 200, ok.text


async def test_replay_errors(start_webhooks: StartWebhooks, build: type[Builders]) -> None:
    async with start_webhooks() as hooks:
        headers = _auth(**ADMIN)
        missing = await hooks.client.post("/api/webhooks/events/evt_nope/replay", headers=headers)
        assert missing.status_code == 404
        bad_id = await hooks.client.post(
            "/api/webhooks/events/not-an-event/replay", headers=headers
        )
        assert bad_id.status_code == 422
        event = build.event("invoice.paid", build.invoice(tenant="t1"))
        await hooks.post_event(event)
        assert await wait_until(lambda: _processed(hooks, event["id"]), timeout=10)
        done = await hooks.client.post(
            f"/api/webhooks/events/{event['id']}/replay", headers=headers
        )
        assert done.status_code == 409
        assert done.json()["error"]["code"] == "not_replayable"


async def _processed(hooks: RunningWebhooks, event_id: str) -> bool:
    row = await hooks.row(event_id)
    return row is not None and row["status"] == "processed"


async def test_the_log_shows_the_class_and_text_of_the_last_error_and_the_next_attempt(
    start_webhooks: StartWebhooks,
    build: type[Builders],
    fake_stripe: FakeStripeReader,
    fake_clock: FakeClock,
) -> None:
    """Stripe down (transient): the operator sees why, of which class, and when next."""
    from billing_domain.errors import GatewayUnavailable

    fake_stripe.fail_with = GatewayUnavailable("Stripe is unavailable (500)")
    event = build.event("customer.subscription.updated", build.subscription(schedule="sched_op"))
    async with start_webhooks(clock=fake_clock) as hooks:
        assert (await hooks.post_event(event)).status_code == 200

        async def retrying() -> Any:
            page = await hooks.client.get(
                "/api/webhooks/events", params={"status": "retrying"}, headers=_auth(**ADMIN)
            )
            assert page.status_code == 200, page.text
            return page.json()["events"]

        assert await wait_until(retrying, timeout=10)
        [shown] = await retrying()
    assert shown["event_id"] == event["id"]
    assert shown["last_error_class"] == "transient"
    assert shown["last_error"] == "GatewayUnavailable: Stripe is unavailable (500)"
    assert shown["error_message"] == shown["last_error"]
    assert shown["next_attempt_at"] is not None
