"""An invoice's latest payment attempt: why it failed and which card it was on.

Since API 2025-03-31.basil an invoice no longer names its payment intent, and its
``invoice.payment_failed`` event says nothing of the decline: the invoice's payments
(``GET /v1/invoice_payments?invoice=...``, each an ``invoice_payment`` whose
``payment.payment_intent`` is expanded, with that intent's ``payment_method``) do. The
intent's ``last_payment_error`` carries the decline (``decline_code`` for a declined
card, else the error ``code``: ``expired_card``, ``incorrect_cvc``,
``payment_intent_payment_attempt_failed`` when there was no card) and the payment
method it was tried with; an intent in ``requires_action`` waits for 3-D Secure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from billing_platform.stripe_reading.fields import mapping, text

REQUIRES_ACTION = "requires_action"


@dataclass(frozen=True, kw_only=True)
class PaymentAttemptReading:
    payment_intent_id: str | None
    status: str | None
    """The payment intent's status (``requires_payment_method`` after a decline,
    ``requires_action`` while 3-D Secure waits, ``succeeded``)."""
    decline_code: str | None
    card_brand: str | None
    card_last4: str | None

    @property
    def action_required(self) -> bool:
        return self.status == REQUIRES_ACTION

    def event_data(self) -> dict[str, Any]:
        """What ``invoice.payment_failed`` carries of the attempt (``billing_domain``)."""
        return {
            "decline_code": self.decline_code,
            "card_brand": self.card_brand,
            "card_last4": self.card_last4,
            "action_required": self.action_required,
        }


def read_latest_payment_attempt(
    invoice_payments: Mapping[str, Any],
) -> PaymentAttemptReading | None:
    """The attempt of the invoice's default payment (``is_default``, else the newest:
    Stripe lists newest first); ``None`` when no payment intent can be read."""
    rows = [row for row in invoice_payments.get("data") or () if isinstance(row, Mapping)]
    if not rows:
        return None
    chosen = next((row for row in rows if row.get("is_default") is True), rows[0])
    intent = mapping(chosen, "payment").get("payment_intent")
    if not isinstance(intent, Mapping):
        return None  # not expanded: nothing to read
    return read_payment_intent_attempt(intent)


def read_payment_intent_attempt(intent: Mapping[str, Any]) -> PaymentAttemptReading:
    status = text(intent, "status")
    error = mapping(intent, "last_payment_error")
    card = mapping(mapping(error, "payment_method"), "card")
    method = intent.get("payment_method")
    if not card and isinstance(method, Mapping):
        card = mapping(method, "card")
    waiting = status == REQUIRES_ACTION
    return PaymentAttemptReading(
        payment_intent_id=text(intent, "id"),
        status=status,
        # while 3-D Secure waits, an earlier attempt's error is not this attempt's reason
        decline_code=None if waiting else text(error, "decline_code") or text(error, "code"),
        card_brand=text(card, "brand"),
        card_last4=text(card, "last4"),
    )
