"""Making a payment method the default, the one way: the customer's
``invoice_settings.default_payment_method`` and each live subscription's
``default_payment_method`` (a subscription pinned to its checkout card keeps charging that
card otherwise). Checkout adopts a setup session's card with it, subscriptions the owner's
"make default"."""

from __future__ import annotations

from billing_domain.status import parse_status
from stripe.params import CustomerUpdateParams, SubscriptionListParams, SubscriptionUpdateParams

from billing_platform.stripe_gateway import StripeCaller, as_dict


async def make_default_payment_method(
    caller: StripeCaller, customer_id: str, payment_method_id: str, *, idempotency_key: str
) -> list[str]:
    """The subscriptions (ids) now charging ``payment_method_id``; each request has its
    own key derived from ``idempotency_key``."""
    v1 = caller.client.v1
    customer: CustomerUpdateParams = {
        "invoice_settings": {"default_payment_method": payment_method_id}
    }
    await caller(
        "customers.update",
        lambda: v1.customers.update_async(
            customer_id, params=customer, options={"idempotency_key": f"{idempotency_key}-customer"}
        ),
    )
    listing: SubscriptionListParams = {"customer": customer_id, "status": "all", "limit": 100}
    found = await caller("subscriptions.list", lambda: v1.subscriptions.list_async(params=listing))
    live = [
        str(sub["id"])
        for sub in as_dict(found).get("data") or []
        if not parse_status(str(sub["status"])).is_ended
    ]
    for subscription_id in live:
        await _pin(
            caller, subscription_id, payment_method_id, f"{idempotency_key}-{subscription_id}"
        )
    return live


async def _pin(
    caller: StripeCaller, subscription_id: str, payment_method_id: str, key: str
) -> None:
    params: SubscriptionUpdateParams = {"default_payment_method": payment_method_id}
    await caller(
        "subscriptions.update",
        lambda: caller.client.v1.subscriptions.update_async(
            subscription_id, params=params, options={"idempotency_key": key}
        ),
    )
