"""The Stripe adapter: ``PaymentGateway`` on the official SDK, through the platform's caller.

``StripeCaller`` brings the shared rate limit, retries of transient failures
and the translation of SDK errors into domain errors; this module only shapes
requests (typed with the SDK's ``stripe.params`` TypedDicts of the pinned API
version, so mypy refuses a parameter Stripe no longer knows) and reads answers
into the service's plain dataclasses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from billing_domain.errors import GatewayUnavailable, NotFound
from billing_platform.stripe_defaults import make_default_payment_method
from billing_platform.stripe_gateway import StripeCaller, as_dict
from billing_platform.stripe_reading import read_checkout_session, read_price
from stripe.params import (
    CustomerCreateParams,
    PriceRetrieveParams,
)
from stripe.params.billing_portal import SessionCreateParams as PortalSessionCreateParams
from stripe.params.checkout import SessionCreateParams, SessionCreateParamsSubscriptionData

from checkout.ports import (
    NewCheckoutSession,
    NewSetupSession,
    OpenedSession,
    PriceInfo,
    SavedCard,
    StripeSessionView,
)

log = structlog.get_logger("checkout.stripe")


class StripePaymentGateway:
    def __init__(self, caller: StripeCaller) -> None:
        self._call = caller
        self._v1 = caller.client.v1

    async def create_customer(self, *, tenant_id: str, idempotency_key: str) -> str:
        params: CustomerCreateParams = {
            "metadata": {"tenant_id": tenant_id},
            "description": f"tenant {tenant_id}",
        }
        customer = await self._call(
            "customers.create",
            lambda: self._v1.customers.create_async(
                params=params, options={"idempotency_key": idempotency_key}
            ),
        )
        return str(customer.id)

    async def create_checkout_session(self, request: NewCheckoutSession) -> OpenedSession:
        metadata = {
            "tenant_id": request.tenant_id,
            "plan": request.plan.value,
            "trial": "true" if request.trial_days else "false",
            "interval": request.interval.value,
        }
        subscription_data: SessionCreateParamsSubscriptionData = {
            "metadata": {"tenant_id": request.tenant_id, "plan": request.plan.value}
        }
        if request.trial_days:
            subscription_data["trial_period_days"] = request.trial_days
        cardless = bool(request.trial_days) and not request.trial_requires_card
        if cardless:
            subscription_data["trial_settings"] = {
                "end_behavior": {
                    "missing_payment_method": "cancel"
                    if request.trial_end_without_card == "cancel"
                    else "pause"
                }
            }
        params: SessionCreateParams = {
            "mode": "subscription",
            "customer": request.customer_id,
            "line_items": [{"price": request.price_id, "quantity": 1}],
            "client_reference_id": request.tenant_id,
            "metadata": metadata,
            "subscription_data": subscription_data,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        if cardless:
            params["payment_method_collection"] = "if_required"
        session = await self._call(
            "checkout.sessions.create",
            lambda: self._v1.checkout.sessions.create_async(
                params=params, options={"idempotency_key": request.idempotency_key}
            ),
        )
        if not session.url:
            raise GatewayUnavailable(
                "Stripe returned a session without a URL", code="stripe_no_url"
            )
        return OpenedSession(session_id=session.id, url=session.url)

    async def create_setup_session(self, request: NewSetupSession) -> OpenedSession:
        metadata = {"tenant_id": request.tenant_id, "purpose": "card_setup"}
        params: SessionCreateParams = {
            "mode": "setup",
            "currency": request.currency,
            "customer": request.customer_id,
            "client_reference_id": request.tenant_id,
            "metadata": metadata,
            "setup_intent_data": {"metadata": {"tenant_id": request.tenant_id}},
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        session = await self._call(
            "checkout.sessions.create",
            lambda: self._v1.checkout.sessions.create_async(
                params=params, options={"idempotency_key": request.idempotency_key}
            ),
        )
        if not session.url:
            raise GatewayUnavailable(
                "Stripe returned a session without a URL", code="stripe_no_url"
            )
        return OpenedSession(session_id=session.id, url=session.url)

    async def retrieve_checkout_session(self, session_id: str) -> StripeSessionView:
        session = read_checkout_session(
            as_dict(
                await self._call(
                    "checkout.sessions.retrieve",
                    lambda: self._v1.checkout.sessions.retrieve_async(
                        session_id, params={"expand": ["setup_intent.payment_method"]}
                    ),
                )
            )
        )
        card = session.setup_card if session.setup_succeeded else None
        return StripeSessionView(
            session_id=session.session_id,
            status=session.status,
            payment_status=session.payment_status,
            customer_id=session.customer_id,
            client_reference_id=session.client_reference_id,
            metadata=session.metadata,
            mode=session.mode,
            saved_card=None
            if card is None
            else SavedCard(
                payment_method_id=card.payment_method_id, brand=card.brand, last4=card.last4
            ),
        )

    async def make_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> None:
        await make_default_payment_method(
            self._call, customer_id, payment_method_id, idempotency_key=idempotency_key
        )

    async def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        params: PortalSessionCreateParams = {"customer": customer_id, "return_url": return_url}
        portal = await self._call(
            "billing_portal.sessions.create",
            lambda: self._v1.billing_portal.sessions.create_async(params=params),
        )
        return str(portal.url)

    async def prices(self, price_ids: Sequence[str]) -> dict[str, PriceInfo]:
        found = await asyncio.gather(*(self._price(price_id) for price_id in price_ids))
        return {price.price_id: price for price in found if price is not None}

    async def _price(self, price_id: str) -> PriceInfo | None:
        params: PriceRetrieveParams = {"expand": ["product"]}
        try:
            price = as_dict(
                await self._call(
                    "prices.retrieve",
                    lambda: self._v1.prices.retrieve_async(price_id, params=params),
                )
            )
        except NotFound:
            log.error("checkout.price.missing", price_id=price_id)
            return None
        read = read_price(price)
        return PriceInfo(
            price_id=price_id,
            name=read.name,
            amount=read.amount,
            currency=read.currency,
            interval=read.interval,
            interval_count=read.interval_count,
        )


class UnconfiguredPaymentGateway:
    """Stands in when ``STRIPE_API_KEY`` is unset: the service boots, Stripe calls answer 503."""

    def _unavailable(self) -> GatewayUnavailable:
        return GatewayUnavailable("Stripe is not configured", code="stripe_not_configured")

    async def create_customer(self, *, tenant_id: str, idempotency_key: str) -> str:
        raise self._unavailable()

    async def create_checkout_session(self, request: NewCheckoutSession) -> OpenedSession:
        raise self._unavailable()

    async def create_setup_session(self, request: NewSetupSession) -> OpenedSession:
        raise self._unavailable()

    async def retrieve_checkout_session(self, session_id: str) -> StripeSessionView:
        raise self._unavailable()

    async def make_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> None:
        raise self._unavailable()

    async def create_portal_session(self, *, customer_id: str, return_url: str) -> str:
        raise self._unavailable()

    async def prices(self, price_ids: Sequence[str]) -> dict[str, PriceInfo]:
        raise self._unavailable()
