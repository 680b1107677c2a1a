"""subscription, subscription_item and subscription_schedule objects."""

from __future__ import annotations

from stripe_sandbox.objects.catalog import plan_of
from stripe_sandbox.objects.common import JSON, automatic_tax_disabled, list_object


def subscription_item(
    *, id: str, created: int, subscription: str, price: JSON, quantity: int, start: int, end: int
) -> JSON:
    return {
        "id": id,
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": created,
        "current_period_end": end,
        "current_period_start": start,
        "discounts": [],
        "metadata": {},
        "plan": plan_of(price),
        "price": price,
        "quantity": quantity,
        "subscription": subscription,
        "tax_rates": [],
    }


def subscription(
    *,
    id: str,
    created: int,
    customer: str,
    currency: str,
    items: list[JSON],
    status: str,
    billing_cycle_anchor: int,
    trial_start: int | None,
    trial_end: int | None,
    metadata: dict[str, str],
    default_payment_method: str | None,
    description: str | None = None,
) -> JSON:
    return {
        "id": id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": automatic_tax_disabled(),
        "billing_cycle_anchor": billing_cycle_anchor,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"type": "classic", "flexible": None},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "days_until_due": None,
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": list_object(items, f"/v1/subscription_items?subscription={id}"),
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": trial_start,
    }


def schedule_phase(
    *,
    items: list[tuple[str, int]],
    currency: str,
    start_date: int,
    end_date: int,
    proration_behavior: str = "create_prorations",
    metadata: dict[str, str] | None = None,
) -> JSON:
    return {
        "add_invoice_items": [],
        "application_fee_percent": None,
        "billing_cycle_anchor": None,
        "billing_thresholds": None,
        "collection_method": None,
        "currency": currency,
        "default_payment_method": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "end_date": end_date,
        "invoice_settings": None,
        "items": [
            {
                "billing_thresholds": None,
                "discounts": [],
                "metadata": {},
                "plan": price_id,
                "price": price_id,
                "quantity": quantity,
                "tax_rates": [],
            }
            for price_id, quantity in items
        ],
        "metadata": metadata or {},
        "on_behalf_of": None,
        "proration_behavior": proration_behavior,
        "start_date": start_date,
        "transfer_data": None,
        "trial_end": None,
    }


def subscription_schedule(
    *,
    id: str,
    created: int,
    customer: str,
    subscription: str | None,
    phases: list[JSON],
    status: str,
    end_behavior: str,
    metadata: dict[str, str],
) -> JSON:
    return {
        "id": id,
        "object": "subscription_schedule",
        "application": None,
        "billing_mode": {"type": "classic", "flexible": None},
        "canceled_at": None,
        "completed_at": None,
        "created": created,
        "current_phase": None,
        "customer": customer,
        "customer_account": None,
        "default_settings": {
            "application_fee_percent": None,
            "automatic_tax": automatic_tax_disabled(),
            "billing_cycle_anchor": "automatic",
            "billing_thresholds": None,
            "collection_method": "charge_automatically",
            "default_payment_method": None,
            "description": None,
            "invoice_settings": {
                "account_tax_ids": None,
                "custom_fields": None,
                "days_until_due": None,
                "description": None,
                "footer": None,
                "issuer": {"type": "self"},
            },
            "on_behalf_of": None,
            "transfer_data": None,
        },
        "end_behavior": end_behavior,
        "livemode": False,
        "metadata": metadata,
        "pause_schedules": [],
        "phases": phases,
        "released_at": None,
        "released_subscription": None,
        "status": status,
        "subscription": subscription,
        "test_clock": None,
    }
