"""``Idempotency-Key`` as Stripe keeps it: replays, clashes, what is stored, for how long."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import stripe
from stripe_sandbox.api import Sandbox
from stripe_sandbox.app import create_app
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.testing import API_KEY, DAY, Journey, serve_app

pytestmark = pytest.mark.e2e


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def test_same_key_same_parameters_replays(http: httpx.AsyncClient) -> None:
    data = {"email": "a@example.com", "metadata[tenant_id]": "t-1"}
    first = await http.post("/v1/customers", data=data, headers=key("k-replay"))
    again = await http.post(
        "/v1/customers",
        data={"metadata[tenant_id]": "t-1", "email": "a@example.com"},  # order does not matter
        headers=key("k-replay"),
    )
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len((await http.get("/v1/customers")).json()["data"]) == 1


async def test_same_key_other_parameters_is_an_idempotency_error(journey: Journey) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "k-clash"}
    await journey.client.v1.customers.create_async(params={"email": "a@x.example"}, options=options)
    with pytest.raises(stripe.IdempotencyError) as caught:
        await journey.client.v1.customers.create_async(
            params={"email": "b@x.example"}, options=options
        )
    assert caught.value.http_status == 400
    assert caught.value.json_body == {
        "error": {
            "type": "idempotency_error",
            "message": "Keys for idempotent requests can only be used with the same parameters "
            "they were first used with. Try using a key other than 'k-clash' if you meant to "
            "execute a different request.",
        }
    }
    other_endpoint = await journey.http.post(
        "/v1/products", data={"name": "x"}, headers=key("k-clash")
    )
    assert other_endpoint.status_code == 400
    assert other_endpoint.json()["error"]["type"] == "idempotency_error"


async def test_a_request_refused_for_its_parameters_is_not_stored(http: httpx.AsyncClient) -> None:
    refused = await http.post(
        "/v1/customers", data={"email": "a@example.com", "nickname": "x"}, headers=key("k-fix")
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "parameter_unknown")
    fixed = await http.post("/v1/customers", data={"email": "a@example.com"}, headers=key("k-fix"))
    assert fixed.status_code == 200, fixed.text
    assert "Idempotent-Replayed" not in fixed.headers


async def test_a_request_that_ran_and_failed_is_replayed(journey: Journey) -> None:
    data = {
        "mode": "subscription",
        "line_items[0][price]": "price_nope",
        "success_url": "https://app.example/ok",
    }
    first = await journey.http.post("/v1/checkout/sessions", data=data, headers=key("k-ran"))
    error = first.json()["error"]
    assert (first.status_code, error["code"], error["param"]) == (
        400,
        "resource_missing",
        "line_items[0][price]",
    )
    again = await journey.http.post("/v1/checkout/sessions", data=data, headers=key("k-ran"))
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (400, "true")
    assert again.json() == first.json()


async def test_keys_expire_after_24_hours_of_sandbox_time(http: httpx.AsyncClient) -> None:
    first = await http.post("/v1/customers", data={"email": "a@x.example"}, headers=key("k-old"))
    assert first.status_code == 200
    await http.post("/_sandbox/clock/advance", data={"seconds": str(DAY - 60)})
    clash = await http.post("/v1/customers", data={"email": "b@x.example"}, headers=key("k-old"))
    assert clash.json()["error"]["type"] == "idempotency_error"  # still kept after 23:59
    await http.post("/_sandbox/clock/advance", data={"seconds": "60"})
    reused = await http.post("/v1/customers", data={"email": "b@x.example"}, headers=key("k-old"))
    assert reused.status_code == 200, reused.text
    assert reused.json()["id"] != first.json()["id"]


async def test_expired_keys_are_dropped_not_kept_forever(
    own_sandbox: tuple[Sandbox, httpx.AsyncClient],
) -> None:
    sandbox, http = own_sandbox
    for name in ("k-1", "k-2"):
        await http.post("/v1/customers", data={"email": "a@x.example"}, headers=key(name))
    await http.post("/_sandbox/clock/advance", data={"seconds": str(DAY)})
    await http.post("/v1/customers", data={"email": "a@x.example"}, headers=key("k-3"))
    assert [record["id"] for record in sandbox.state.all("_idempotency")] == ["k-3"]


@pytest.fixture
async def own_sandbox() -> AsyncIterator[tuple[Sandbox, httpx.AsyncClient]]:
    """A sandbox whose internals the test can hold (its state lock)."""
    app = create_app(SandboxConfig(port=0))
    async with (
        serve_app(app) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {API_KEY}"}) as http,
    ):
        yield app.state.sandbox, http


async def test_a_key_whose_first_request_is_running_is_a_409(
    own_sandbox: tuple[Sandbox, httpx.AsyncClient],
) -> None:
    sandbox, http = own_sandbox
    async with sandbox.state.lock:  # the first request waits inside, its key in flight
        first = asyncio.create_task(
            http.post("/v1/customers", data={"email": "a@x.example"}, headers=key("k-busy"))
        )
        for _ in range(500):
            if "k-busy" in sandbox.in_flight:
                break
            await asyncio.sleep(0.01)
        second = await http.post(
            "/v1/customers", data={"email": "a@x.example"}, headers=key("k-busy")
        )
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_key_in_use"
    assert (await first).status_code == 200
    replay = await http.post("/v1/customers", data={"email": "a@x.example"}, headers=key("k-busy"))
    assert (replay.status_code, replay.json()["id"]) == (200, (await first).json()["id"])
