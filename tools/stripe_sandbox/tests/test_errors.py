"""Bad requests get Stripe's error shape, type, code and status; never a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.testing import Journey

pytestmark = pytest.mark.e2e


def error_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert {"type", "message"} <= set(body["error"])
    return body["error"]  # type: ignore[no-any-return]


async def test_missing_and_wrong_api_key(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v1/customers", headers={"Authorization": ""})
    assert missing.status_code == 401
    assert error_of(missing)["type"] == "invalid_request_error"  # Stripe has no auth type
    wrong = await http.get("/v1/customers", headers={"Authorization": "Bearer sk_live_nope"})
    assert wrong.status_code == 401
    async with httpx.AsyncClient(base_url=http.base_url) as bare:
        assert (await bare.get("/v1/customers", auth=("sk_test_curl", ""))).status_code == 200
        assert (await bare.get("/v1/customers", auth=("sk_live_x", ""))).status_code == 401


async def test_sdk_raises_authentication_error(sandbox: RunningSandbox) -> None:
    client = stripe.StripeClient(
        "pk_test_not_secret", base_addresses={"api": sandbox.url}, http_client=stripe.HTTPXClient()
    )
    with pytest.raises(stripe.AuthenticationError):
        await client.v1.customers.list_async()


async def test_unknown_price_is_resource_missing(journey: Journey) -> None:
    """An unknown id in a parameter is a 400 (a 404 is for an id in the URL)."""
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await journey.client.v1.checkout.sessions.create_async(
            params={
                "mode": "subscription",
                "line_items": [{"price": "price_nope", "quantity": 1}],
                "success_url": "https://app.example/ok",
            }
        )
    assert caught.value.http_status == 400
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "line_items[0][price]"


async def test_missing_customer_is_resource_missing(journey: Journey) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await journey.client.v1.customers.retrieve_async("cus_missing")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await journey.client.v1.billing_portal.sessions.create_async(
            params={"customer": "cus_missing"}
        )
    assert (caught.value.code, caught.value.param) == ("resource_missing", "customer")


@pytest.mark.parametrize(
    ("path", "data", "code", "param"),
    [
        ("/v1/checkout/sessions", {}, "parameter_missing", "mode"),
        ("/v1/checkout/sessions", {"mode": "bogus"}, None, "mode"),
        (
            "/v1/prices",
            {"currency": "usd", "unit_amount": "ten", "product": "x"},
            "parameter_invalid_integer",
            "unit_amount",
        ),
        (
            "/v1/customers",
            {"metadata": "[1]", "payment_method": "pm_nope"},
            None,
            "metadata",
        ),
        ("/v1/customers/search", {}, "-", None),
        ("/v1/invoices/create_preview", {}, "parameter_missing", "subscription"),
        ("/v1/subscription_schedules", {}, "parameter_missing", "from_subscription"),
    ],
)
async def test_invalid_parameters(
    http: httpx.AsyncClient, path: str, data: dict[str, str], code: str | None, param: str | None
) -> None:
    response = await http.post(path, data=data)
    if code == "-":
        assert response.status_code == 404  # POST to a GET-only path: unrecognized URL
        return
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["type"], error.get("code"), error["param"]) == (
        "invalid_request_error",
        code,
        param,
    )


async def test_wrong_types_on_update(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    bad = await journey.http.post(
        f"/v1/subscriptions/{sub.id}", data={"cancel_at_period_end": "maybe"}
    )
    assert bad.status_code == 400
    assert error_of(bad) == {
        "type": "invalid_request_error",
        "message": "Invalid boolean: maybe",
        "param": "cancel_at_period_end",
    }
    bad = await journey.http.post(
        f"/v1/subscriptions/{sub.id}", data={"items[0][id]": "si_nope", "items[0][price]": "x"}
    )
    assert (bad.status_code, error_of(bad)["code"]) == (400, "resource_missing")
    bad = await journey.http.post(
        f"/v1/subscriptions/{sub.id}", data={"proration_behavior": "sometimes"}
    )
    assert error_of(bad)["param"] == "proration_behavior"
    item = sub.items.data[0].id
    bad = await journey.http.post(
        f"/v1/subscriptions/{sub.id}", data={"items[0][id]": item, "items[0][deleted]": "true"}
    )
    assert error_of(bad)["param"] == "items"
    still = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert [i.id for i in still.items.data] == [item]
    bad = await journey.http.get("/v1/events", params={"limit": "1000"})
    assert (bad.status_code, error_of(bad)["code"]) == (400, "parameter_invalid_integer")


async def test_unknown_url_and_malformed_keys(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/nothing_here")
    assert response.status_code == 404
    assert error_of(response)["type"] == "invalid_request_error"
    response = await http.post("/v1/customers", content=b"a[b=1&c]]=2")
    assert response.status_code == 400


async def test_idempotency_key_reused_with_other_params(journey: Journey) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "same-key"}
    first = await journey.client.v1.customers.create_async(params={"email": "a@x"}, options=options)
    again = await journey.client.v1.customers.create_async(params={"email": "a@x"}, options=options)
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        await journey.client.v1.customers.create_async(params={"email": "b@x"}, options=options)


async def test_pay_with_declining_card_is_a_card_error(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly", trial_days=1, card="4000000000000341")
    await journey.advance(2 * 86_400)
    failed = await journey.client.v1.subscriptions.retrieve_async(sub.id)
    assert isinstance(failed.latest_invoice, str)
    with pytest.raises(stripe.CardError) as caught:
        await journey.client.v1.invoices.pay_async(failed.latest_invoice)
    assert caught.value.code == "card_declined"
    assert caught.value.http_status == 402


PATHS = [
    "/v1/customers",
    "/v1/customers/{cus}",
    "/v1/prices",
    "/v1/checkout/sessions",
    "/v1/checkout/sessions/{cs}/expire",
    "/v1/billing_portal/sessions",
    "/v1/subscriptions",
    "/v1/subscriptions/{sub}",
    "/v1/subscription_schedules",
    "/v1/subscription_schedules/{sched}",
    "/v1/subscription_schedules/{sched}/release",
    "/v1/invoices/create_preview",
    "/v1/invoices/{inv}/pay",
    "/v1/test_helpers/test_clocks",
    "/_sandbox/clock/advance",
    "/_sandbox/webhooks",
    "/_sandbox/customers/{cus}/card",
]
keys = st.sampled_from(
    [
        "customer",
        "mode",
        "items[0][price]",
        "items[0][id]",
        "items[0][quantity]",
        "items[0][deleted]",
        "line_items[0][price]",
        "line_items[0][quantity]",
        "metadata[a]",
        "expand[]",
        "subscription",
        "subscription_details[items][0][id]",
        "subscription_details[items][0][price]",
        "subscription_details[proration_date]",
        "subscription_details[proration_behavior]",
        "phases[0][items][0][price]",
        "phases[0][start_date]",
        "phases[0][end_date]",
        "phases[0][iterations]",
        "phases[1][items][0][price]",
        "phases[1][duration][interval]",
        "end_behavior",
        "from_subscription",
        "cancel_at_period_end",
        "cancel_at",
        "proration_behavior",
        "proration_date",
        "trial_period_days",
        "subscription_data[trial_period_days]",
        "default_payment_method",
        "payment_method",
        "unit_amount",
        "currency",
        "recurring[interval]",
        "seconds",
        "to",
        "url",
        "card",
        "limit",
        "frozen_time",
        "a[",
        "x]]",
        "items[1][price]",
        "items[a][price]",
        "metadata",
    ]
)


@pytest.fixture
async def live(journey: Journey) -> dict[str, str]:
    """Ids of real objects, so random bodies reach past the lookups."""
    sub = await journey.subscribe("team_monthly")
    sched = await journey.client.v1.subscription_schedules.create_async(
        params={"from_subscription": sub.id}
    )
    session = await journey.checkout("solo_monthly")
    price = await journey.price("solo_monthly")
    return {
        "cus": sub.customer,
        "sub": sub.id,
        "si": sub.items.data[0].id,
        "sched": sched.id,
        "inv": sub.latest_invoice,
        "cs": session.id,
        "price": price.id,
    }


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(PATHS),
    pairs=st.lists(
        st.tuples(
            keys,
            st.one_of(
                st.sampled_from(
                    [
                        "",
                        "1",
                        "-5",
                        "0",
                        "true",
                        "false",
                        "now",
                        "month",
                        "99999999999",
                        "always_invoice",
                        "none",
                        "cancel",
                        "4242424242424242",
                        "@sub",
                        "@si",
                        "@price",
                        "@cus",
                        "@subx",
                    ]
                ),
                st.text(max_size=8),
            ),
        ),
        max_size=6,
    ),
)
async def test_random_bodies_never_500(
    http: httpx.AsyncClient, live: dict[str, str], path: str, pairs: list[tuple[str, str]]
) -> None:
    filled = [(key, live.get(value.removeprefix("@"), value)) for key, value in pairs]
    response = await http.post(
        path.format(**live),
        content=urlencode(filled).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code < 500, (path, filled, response.text)
