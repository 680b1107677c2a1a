"""The one ``invoices.pay`` adapter (``StripeSubscriptionGateway.pay_invoice``) against
the Stripe sandbox: the tenant's "pay now" and the operators' retry both use it.

A renewal charged to a declining card leaves an open invoice; paying it again with the
card still declining is an answer (``declined``, Stripe's code and words), not an
error; with a good card it is paid; once paid, Stripe refuses (409 ``stripe_refused``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import stripe
from billing_domain.errors import Conflict
from billing_domain.payment_recovery import PaymentAttempt
from billing_platform.settings import BillingSettings
from billing_platform.stripe_gateway import StripeCaller
from billing_platform.stripe_reading import PriceCatalog
from stripe_sandbox.server import RunningSandbox
from stripe_sandbox.testing import API_KEY, CARD_DECLINED, CARD_OK, DAY, Journey
from subscriptions.adapters.stripe import StripeSubscriptionGateway

pytestmark = pytest.mark.e2e


@pytest.fixture
async def journey(stripe_sandbox: RunningSandbox) -> AsyncIterator[Journey]:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": stripe_sandbox.url})
    async with httpx.AsyncClient(
        base_url=stripe_sandbox.url, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as http:
        yield Journey(client, http)


@pytest.fixture
def gateway(
    stripe_sandbox: RunningSandbox, sandbox_prices: dict[str, str]
) -> StripeSubscriptionGateway:
    settings = BillingSettings(stripe_api_key=API_KEY, stripe_api_base=stripe_sandbox.url)
    caller = StripeCaller.from_settings(settings)
    return StripeSubscriptionGateway(caller, PriceCatalog(sandbox_prices, {}))


async def test_pay_invoice_answers_declined_then_paid_then_refuses(
    journey: Journey, gateway: StripeSubscriptionGateway
) -> None:
    subscription = await journey.subscribe("solo_monthly")
    customer = str(subscription.customer)
    card = await journey.http.post(
        f"/_sandbox/customers/{customer}/card", data={"card": CARD_DECLINED}
    )
    assert card.status_code == 200, card.text
    await journey.advance(31 * DAY + 2 * 3600)  # the renewal fails
    invoices = await journey.client.v1.invoices.list_async(
        params={"customer": customer, "status": "open"}
    )
    (invoice,) = invoices.data
    assert invoice.id is not None

    declined = await gateway.pay_invoice(invoice.id, idempotency_key="pay-1")
    assert declined.attempt is PaymentAttempt.DECLINED
    assert declined.invoice_status is None
    assert declined.refusal_code == "card_declined"
    assert declined.refusal

    card = await journey.http.post(f"/_sandbox/customers/{customer}/card", data={"card": CARD_OK})
    assert card.status_code == 200, card.text
    paid = await gateway.pay_invoice(invoice.id, idempotency_key="pay-2")
    assert (paid.attempt, paid.invoice_status, paid.refusal_code) == (
        PaymentAttempt.PAID,
        "paid",
        None,
    )

    with pytest.raises(Conflict) as refused:  # paid already: Stripe will not try
        await gateway.pay_invoice(invoice.id, idempotency_key="pay-3")
    assert refused.value.code == "stripe_refused"
