"""payment_intent, charge and invoiceitem objects (shapes of the pinned API version)."""

from __future__ import annotations

from stripe_sandbox.objects.common import JSON, empty_billing_details, list_object


def payment_intent(
    *,
    id: str,
    created: int,
    amount: int,
    currency: str,
    customer: str,
    description: str | None,
    payment_method: str | None,
) -> JSON:
    return {
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{id}_secret_sandbox",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def three_d_secure_action(return_url: str) -> JSON:
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": return_url},
    }


def card_error(
    *,
    code: str,
    decline_code: str | None,
    message: str,
    charge: str | None,
    payment_method: JSON | None = None,
) -> JSON:
    """A payment intent's ``last_payment_error``: with the payment method it was tried
    with (the whole object, as Stripe embeds it) when there was one."""
    error: JSON = {
        "charge": charge,
        "code": code,
        "decline_code": decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "type": "card_error",
    }
    if payment_method is not None:
        error["payment_method"] = payment_method
    return error


def invoice_payment(
    *, id: str, created: int, invoice: str, amount_requested: int, currency: str, intent: str
) -> JSON:
    """An invoice's payment (since 2025-03-31.basil the only link from an invoice to its
    payment intent): ``open`` until paid or canceled."""
    return {
        "id": id,
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": amount_requested,
        "created": created,
        "currency": currency,
        "invoice": invoice,
        "is_default": True,
        "livemode": False,
        "payment": {"payment_intent": intent, "type": "payment_intent"},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }


def charge(
    *,
    id: str,
    created: int,
    amount: int,
    currency: str,
    customer: str,
    description: str | None,
    payment_intent: str,
    payment_method: JSON,
    failure: tuple[str, str, str] | None,
) -> JSON:
    """``failure``: (failure_code, decline_code, message) of a declined charge."""
    card = payment_method["card"]
    paid = failure is None
    return {
        "id": id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if paid else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": "txn_" + id[3:] if paid else None,
        "billing_details": empty_billing_details(),
        "calculated_statement_descriptor": "BILLING SANDBOX",
        "captured": paid,
        "created": created,
        "currency": currency,
        "customer": customer,
        "description": description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure[0] if failure else None,
        "failure_message": failure[2] if failure else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network" if paid else "declined_by_network",
            "reason": failure[1] if failure else None,
            "risk_level": "normal",
            "risk_score": 20,
            "seller_message": "Payment complete."
            if paid
            else "The bank did not return any further details with this decline.",
            "type": "authorized" if paid else "issuer_declined",
        },
        "paid": paid,
        "payment_intent": payment_intent,
        "payment_method": payment_method["id"],
        "payment_method_details": {
            "card": {
                "amount_authorized": amount if paid else None,
                "authorization_code": None,
                "brand": card["brand"],
                "checks": card["checks"],
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "extended_authorization": {"status": "disabled"},
                "fingerprint": card["fingerprint"],
                "funding": card["funding"],
                "incremental_authorization": {"status": "unavailable"},
                "installments": None,
                "last4": card["last4"],
                "mandate": None,
                "multicapture": {"status": "unavailable"},
                "network": card["brand"],
                "network_token": {"used": False},
                "network_transaction_id": None,
                "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
                "regulated_status": card["regulated_status"],
                "three_d_secure": None,
                "transaction_link_id": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "refunds": list_object([], f"/v1/charges/{id}/refunds"),
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if paid else "failed",
        "transfer_data": None,
        "transfer_group": None,
    }


def invoice_item(
    *,
    id: str,
    created: int,
    amount: int,
    currency: str,
    customer: str,
    description: str,
    period_start: int,
    period_end: int,
    price: str,
    product: str,
    quantity: int,
    subscription: str,
    subscription_item: str | None,
    proration: bool,
) -> JSON:
    return {
        "id": id,
        "object": "invoiceitem",
        "amount": amount,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "date": created,
        "description": description,
        "discountable": False,
        "discounts": [],
        "invoice": None,
        "livemode": False,
        "metadata": {},
        "net_amount": amount,
        "parent": {
            "subscription_details": {
                "subscription": subscription,
                "subscription_item": subscription_item,
            },
            "type": "subscription_details",
        },
        "period": {"end": period_end, "start": period_start},
        "pricing": {
            "price_details": {"price": price, "product": product},
            "type": "price_details",
            "unit_amount_decimal": str(amount // quantity if quantity else amount),
        },
        "proration": proration,
        "proration_details": {"credited_items": None, "discount_amounts": []},
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "tax_rates": [],
        "test_clock": None,
    }
