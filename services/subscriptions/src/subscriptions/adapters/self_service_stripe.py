"""``StripeSelfServiceGateway``: the ``SelfServiceGateway`` port on the official SDK.

Through the platform's ``StripeCaller`` (rate limit, retries, SDK errors -> domain
errors); Stripe objects are read into our terms by ``billing_platform.stripe_reading``
only; every request's parameters are typed with the SDK's ``stripe.params``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from billing_domain.errors import GatewayUnavailable
from billing_domain.invoice_history import InvoiceDocument
from billing_platform.stripe_defaults import make_default_payment_method
from billing_platform.stripe_gateway import StripeCaller, as_dict
from billing_platform.stripe_reading import id_of, read_invoice, read_payment_method
from billing_platform.stripe_reading.invoice import InvoiceReading
from stripe.params import (
    CustomerPaymentMethodListParams,
    InvoiceListParams,
)

from subscriptions.self_service.ports import CustomerWallet, StripeInvoiceState

T = TypeVar("T")
RECONCILED_INVOICES = 100
"""How many of a customer's newest invoices ``billing reconcile`` re-reads."""


def _state(reading: InvoiceReading) -> StripeInvoiceState:
    return StripeInvoiceState(
        invoice_id=reading.invoice_id,
        customer_id=reading.customer_id,
        status=reading.status,
        amount_remaining=reading.amount_remaining,
    )


def invoice_document(reading: InvoiceReading, tenant_id: str) -> InvoiceDocument:
    return InvoiceDocument(
        invoice_id=reading.invoice_id,
        tenant_id=tenant_id,
        stripe_customer_id=reading.customer_id,
        stripe_subscription_id=reading.subscription_id,
        number=reading.number,
        status=reading.status,
        total=reading.total,
        amount_due=reading.amount_due,
        currency=reading.currency,
        period_start=reading.period_start,
        period_end=reading.period_end,
        created=reading.created,
        hosted_invoice_url=reading.hosted_invoice_url,
        invoice_pdf=reading.invoice_pdf,
        payment_method_id=reading.payment_method_id,
    )


class StripeSelfServiceGateway:
    def __init__(self, caller: StripeCaller | None) -> None:
        self._caller = caller

    def _configured(self) -> StripeCaller:
        if self._caller is None:
            raise GatewayUnavailable("Stripe is not configured", code="stripe_not_configured")
        return self._caller

    async def _call(self, operation: str, call: Callable[[StripeCaller], Awaitable[T]]) -> T:
        caller = self._configured()
        return await caller(operation, lambda: call(caller))

    async def set_default_payment_method(
        self, customer_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> list[str]:
        return await make_default_payment_method(
            self._configured(), customer_id, payment_method_id, idempotency_key=idempotency_key
        )

    async def detach_payment_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        await self._call(
            "payment_methods.detach",
            lambda c: c.client.v1.payment_methods.detach_async(
                payment_method_id, options={"idempotency_key": idempotency_key}
            ),
        )

    async def invoice_state(self, invoice_id: str) -> StripeInvoiceState:
        found = await self._call(
            "invoices.retrieve", lambda c: c.client.v1.invoices.retrieve_async(invoice_id)
        )
        return _state(read_invoice(as_dict(found)))

    async def wallet(self, customer_id: str, tenant_id: str) -> CustomerWallet:
        customer = as_dict(
            await self._call(
                "customers.retrieve", lambda c: c.client.v1.customers.retrieve_async(customer_id)
            )
        )
        settings: dict[str, Any] = customer.get("invoice_settings") or {}
        method_params: CustomerPaymentMethodListParams = {"type": "card", "limit": 100}
        methods = await self._call(
            "customers.payment_methods.list",
            lambda c: c.client.v1.customers.payment_methods.list_async(
                customer_id, params=method_params
            ),
        )
        invoice_params: InvoiceListParams = {
            "customer": customer_id,
            "limit": RECONCILED_INVOICES,
        }
        invoices = await self._call(
            "invoices.list", lambda c: c.client.v1.invoices.list_async(params=invoice_params)
        )
        return CustomerWallet(
            cards=[
                read_payment_method(method).on_file()
                for method in as_dict(methods).get("data") or []
            ],
            default_payment_method_id=id_of(settings.get("default_payment_method")),
            invoices=[
                invoice_document(read_invoice(invoice), tenant_id)
                for invoice in as_dict(invoices).get("data") or []
            ],
        )
