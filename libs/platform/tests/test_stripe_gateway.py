import pytest
import stripe
from billing_domain.errors import Conflict, GatewayUnavailable, NotFound, RuleViolated
from billing_platform.settings import BillingSettings
from billing_platform.stripe_gateway import StripeCaller, build_stripe_client, default_rate

pytestmark = pytest.mark.unit


def _caller() -> StripeCaller:
    client = build_stripe_client(BillingSettings(stripe_api_key="sk_test_x"))
    return StripeCaller(client, rate_per_second=1000, attempts=3, max_wait=0.01)


async def test_transient_errors_are_retried_then_succeed() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise stripe.RateLimitError("slow down", http_status=429)
        return "ok"

    assert await _caller()("customers.create", flaky) == "ok"
    assert calls == 3


async def test_stripe_5xx_is_retried() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise stripe.APIError("Internal error", http_status=500)
        return "ok"

    assert await _caller()("invoices.pay", flaky) == "ok"
    assert calls == 2


async def test_persistent_outage_becomes_gateway_unavailable() -> None:
    calls = 0

    async def down() -> str:
        nonlocal calls
        calls += 1
        raise stripe.APIConnectionError("connection refused")  # type: ignore[no-untyped-call]

    with pytest.raises(GatewayUnavailable) as caught:
        await _caller()("customers.create", down)
    assert calls == 3
    assert caught.value.code == "stripe_unavailable"


@pytest.mark.parametrize(
    ("error", "expected", "code"),
    [
        (
            stripe.InvalidRequestError(  # type: ignore[no-untyped-call]
                "No such customer", "id", code="resource_missing", http_status=404
            ),
            NotFound,
            "stripe_not_found",
        ),
        (
            stripe.InvalidRequestError(  # type: ignore[no-untyped-call]
                "Invalid integer", "quantity", code="parameter_invalid_integer", http_status=400
            ),
            RuleViolated,
            "stripe_invalid_request",
        ),
        (
            stripe.CardError(  # type: ignore[no-untyped-call]
                "Your card was declined.", "card", code="card_declined", http_status=402
            ),
            RuleViolated,
            "card_declined",
        ),
        (
            stripe.IdempotencyError(
                "Keys for idempotent requests can only be used with the same parameters",
                http_status=400,
            ),
            Conflict,
            "idempotency_conflict",
        ),
        (
            stripe.AuthenticationError("Invalid API Key", http_status=401),
            GatewayUnavailable,
            "stripe_unavailable",
        ),
        (
            stripe.APIError("Unexpected answer", http_status=400),
            GatewayUnavailable,
            "stripe_unavailable",
        ),
    ],
)
async def test_sdk_errors_become_domain_errors(
    error: stripe.StripeError, expected: type[Exception], code: str
) -> None:
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise error

    with pytest.raises(expected) as caught:
        await _caller()("op", failing)
    assert getattr(caught.value, "code", None) == code
    assert calls == 1  # only transient errors are retried


def test_rate_defaults_follow_the_key_mode() -> None:
    assert default_rate("sk_test_1") == 20
    assert default_rate("sk_live_1") == 90
    assert default_rate("rk_live_1") == 90
