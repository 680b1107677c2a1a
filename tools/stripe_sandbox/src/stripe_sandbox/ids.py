"""Stripe-looking object ids."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


# Prefix -> object kind, longest prefix first (``sub_sched_`` before ``sub_``).
KIND_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("sub_sched_", "subscription_schedule"),
    ("cs_", "checkout.session"),
    ("bps_", "billing_portal.session"),
    ("cus_", "customer"),
    ("prod_", "product"),
    ("price_", "price"),
    ("sub_", "subscription"),
    ("si_", "subscription_item"),
    ("inpay_", "invoice_payment"),
    ("in_", "invoice"),
    ("pi_", "payment_intent"),
    ("ch_", "charge"),
    ("evt_", "event"),
    ("pm_", "payment_method"),
    ("seti_", "setup_intent"),
    ("we_", "webhook_endpoint"),
    ("clock_", "test_helpers.test_clock"),
)


def kind_of(object_id: str) -> str | None:
    for prefix, kind in KIND_BY_PREFIX:
        if object_id.startswith(prefix):
            return kind
    return None
