"""Every /v1 request is checked against the pinned SDK's definition of its endpoint,
and refused with Stripe's 400 (and wording) before anything runs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe_sandbox import app
from stripe_sandbox.config import SandboxConfig
from stripe_sandbox.errors import StripeError
from stripe_sandbox.forms import decode_pairs
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.testing import API_KEY, Journey, expanded
from stripe_sandbox.validation import validate

pytestmark = pytest.mark.e2e


async def _schedule(journey: Journey) -> tuple[Any, Any, Any]:
    sub = await journey.subscribe("team_monthly")
    sched = await journey.client.v1.subscription_schedules.create_async(
        params={"from_subscription": sub.id}
    )
    solo = await journey.price("solo_monthly")
    return sub, sched, solo


async def test_a_removed_phase_iterations_is_stripes_400_parameter_unknown(
    journey: Journey,
) -> None:
    """The downgrade bug of issue 14: Stripe removed phases[][iterations] (2025-09-30.clover)."""
    sub, sched, solo = await _schedule(journey)
    phases: Any = [
        {
            "items": [{"price": sub.items.data[0].price.id, "quantity": 1}],
            "start_date": sched.phases[0].start_date,
            "end_date": sched.phases[0].end_date,
        },
        {"items": [{"price": solo.id, "quantity": 1}], "iterations": 1},
    ]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await journey.client.v1.subscription_schedules.update_async(
            sched.id, params={"phases": phases, "end_behavior": "release"}
        )
    error = caught.value
    assert (error.http_status, error.code, error.param) == (
        400,
        "parameter_unknown",
        "phases[1][iterations]",
    )
    assert error.user_message == "Received unknown parameter: phases[1][iterations]"
    body: Any = error.json_body
    assert body["error"]["type"] == "invalid_request_error"
    unchanged = await journey.client.v1.subscription_schedules.retrieve_async(sched.id)
    assert len(unchanged.phases) == 1  # refused before it ran

    del phases[1]["iterations"]
    phases[1]["duration"] = {"interval": "month", "interval_count": 1}
    updated = await journey.client.v1.subscription_schedules.update_async(
        sched.id, params={"phases": phases, "end_behavior": "release"}
    )
    assert len(updated.phases) == 2
    assert updated.phases[1].items[0].price == solo.id


async def test_unknown_top_level_parameters(journey: Journey) -> None:
    params: Any = {"email": "a@example.com", "nickname": "x"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await journey.client.v1.customers.create_async(params=params)
    assert (caught.value.code, caught.value.param) == ("parameter_unknown", "nickname")
    assert caught.value.user_message == "Received unknown parameter: nickname"
    listed = await journey.http.get("/v1/customers", params={"bogus": "1", "other": "2"})
    assert listed.status_code == 400
    assert listed.json()["error"]["message"] == "Received unknown parameters: bogus, other"
    assert not (await journey.client.v1.customers.list_async()).data


async def test_a_bad_enum_value_is_refused_with_the_allowed_values(journey: Journey) -> None:
    sub = await journey.subscribe("solo_monthly")
    params: Any = {"payment_behavior": "sometimes"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await journey.client.v1.subscriptions.update_async(sub.id, params=params)
    assert caught.value.http_status == 400
    assert caught.value.param == "payment_behavior"
    assert caught.value.code is None  # Stripe gives an enum error no code
    assert caught.value.user_message == (
        "Invalid payment_behavior: must be one of allow_incomplete, default_incomplete, "
        "error_if_incomplete, or pending_if_incomplete"
    )
    nested = await journey.http.post(
        f"/v1/subscription_schedules/{(await _schedule(journey))[1].id}",
        data={
            "phases[0][items][0][price]": "price_x",
            "phases[0][duration][interval]": "fortnight",
        },
    )
    assert nested.status_code == 400
    assert nested.json()["error"]["message"] == (
        "Invalid phases[0][duration][interval]: must be one of day, month, week, or year"
    )


async def test_missing_required_parameters(journey: Journey) -> None:
    product = await journey.client.v1.products.create_async(params={"name": "Extra"})
    params: Any = {"product": product.id, "unit_amount": 100}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await journey.client.v1.prices.create_async(params=params)
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "currency")
    assert caught.value.user_message == "Missing required param: currency."
    _, sched, _ = await _schedule(journey)
    nested = await journey.http.post(
        f"/v1/subscription_schedules/{sched.id}",
        data={"phases[0][duration][interval]": "month"},
    )
    error = nested.json()["error"]
    assert (nested.status_code, error["code"], error["param"]) == (
        400,
        "parameter_missing",
        "phases[0][items]",
    )
    advance = await journey.http.post("/v1/test_helpers/test_clocks/clock_x/advance")
    assert (advance.status_code, advance.json()["error"]["param"]) == (400, "frozen_time")


async def test_wrong_scalar_types(journey: Journey) -> None:
    cases: list[tuple[dict[str, str], str | None, str]] = [
        ({"unit_amount": "ten"}, "parameter_invalid_integer", "unit_amount"),
        ({"currency": ""}, "parameter_invalid_empty", "currency"),
        ({"active": "maybe"}, None, "active"),
        ({"recurring": "month"}, None, "recurring"),
    ]
    for data, code, param in cases:
        body = {"currency": "usd", "product": "prod_x", **data}
        response = await journey.http.post("/v1/prices", data=body)
        assert response.status_code == 400, (data, response.text)
        error = response.json()["error"]
        assert (error.get("code"), error["param"]) == (code, param), data


async def test_free_form_keys_expand_and_unsetting_keep_working(journey: Journey) -> None:
    customer = await journey.client.v1.customers.create_async(
        params={
            "email": "owner@example.com",
            "metadata": {"tenant id (any key)": "t-1", "0": "digits too"},
            "expand": ["invoice_settings.default_payment_method"],
        }
    )
    assert customer.metadata is not None
    assert customer.metadata["tenant id (any key)"] == "t-1"
    sub = await journey.subscribe("solo_monthly")
    cleared = await journey.client.v1.subscriptions.update_async(
        sub.id, params={"metadata": "", "cancel_at": "", "expand": ["latest_invoice"]}
    )
    assert cleared.metadata.to_dict() == {}
    assert expanded(cleared.latest_invoice, stripe.Invoice).object == "invoice"


async def test_too_deep_an_expand_is_refused_before_anything_runs(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/v1/customers",
        data={"email": "a@example.com", "expand[]": "a.b.c.d.e"},
        headers={"Idempotency-Key": "k-deep"},
    )
    assert (response.status_code, response.json()["error"]["param"]) == (400, "expand")
    assert not (await http.get("/v1/customers")).json()["data"]


async def test_duration_and_end_date_are_exclusive(journey: Journey) -> None:
    _, sched, solo = await _schedule(journey)
    response = await journey.http.post(
        f"/v1/subscription_schedules/{sched.id}",
        data={
            "phases[0][items][0][price]": solo.id,
            "phases[0][end_date]": str(sched.phases[0].end_date),
            "phases[0][duration][interval]": "month",
        },
    )
    error = response.json()["error"]
    assert (response.status_code, error["code"], error["param"]) == (
        400,
        "parameters_exclusive",
        "phases[0][duration]",
    )


async def test_another_stripe_version_is_refused(
    sandbox: RunningSandbox, http: httpx.AsyncClient
) -> None:
    older = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": sandbox.url},
        http_client=stripe.HTTPXClient(),
        stripe_version="2025-03-31.basil",
        max_network_retries=0,
    )
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await older.v1.customers.create_async(params={"email": "a@example.com"})
    assert caught.value.http_status == 400
    assert caught.value.code is None
    assert str(caught.value.user_message).startswith("Invalid Stripe API version: 2025-03-31.basil")
    pinned = SandboxConfig().api_version
    assert pinned == stripe.api_version
    assert (await http.get("/v1/customers", headers={"Stripe-Version": pinned})).status_code == 200
    assert (await http.get("/v1/customers")).status_code == 200  # no header: the pinned one
    assert not (await http.get("/v1/customers")).json()["data"]  # nothing ran


async def test_sandbox_controls_are_not_stripe_endpoints(http: httpx.AsyncClient) -> None:
    """``/_sandbox/*`` take their own parameters; Stripe's definition does not apply."""
    moved = await http.post("/_sandbox/clock/advance", data={"seconds": "60"})
    assert moved.status_code == 200, moved.text


ROUTES = [(method, path.replace("{id}", "obj_1")) for method, path, _ in app.ROUTES]
FORM_KEYS = st.sampled_from(
    [
        "email",
        "metadata",
        "metadata[k]",
        "metadata[0]",
        "expand[]",
        "expand[0]",
        "items[0][price]",
        "items[0][quantity]",
        "items[x][price]",
        "items[0]",
        "phases[0][items][0][price]",
        "phases[0][duration][interval]",
        "phases[0][duration]",
        "phases[1][iterations]",
        "invoice_settings",
        "invoice_settings[0]",
        "line_items[0][price]",
        "subscription_details[items][0][id]",
        "payment_behavior",
        "cancel_at",
        "trial_end",
        "limit",
        "created[gte]",
        "frozen_time",
        "recurring[interval]",
        "unit_amount",
        "nickname",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    route=st.sampled_from(ROUTES),
    pairs=st.lists(
        st.tuples(FORM_KEYS, st.one_of(st.sampled_from(["", "1", "now", "x"]), st.text())),
        max_size=6,
    ),
)
@pytest.mark.unit
def test_any_form_body_is_accepted_or_a_stripe_400(
    route: tuple[str, str], pairs: list[tuple[str, str]]
) -> None:
    method, path = route
    try:
        data = decode_pairs(pairs)
    except StripeError:
        return  # a malformed key: refused by the decoder
    refused = _refusal(method, path, data)
    if refused is not None:
        assert (refused.status, refused.before_execution) == (400, True), refused
        assert refused.param is not None


def _refusal(method: str, path: str, data: dict[str, Any]) -> StripeError | None:
    try:
        validate(method, path, data)
    except StripeError as refused:
        return refused
    return None
