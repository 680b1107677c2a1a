"""A Stripe payment method -> the card summary we show (never more of the card)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing_domain.errors import RuleViolated
from billing_domain.payment_methods import CardOnFile

from billing_platform.stripe_reading.fields import id_of, integer, mapping, text, timestamp


@dataclass(frozen=True, kw_only=True)
class CardSummary:
    payment_method_id: str
    customer_id: str | None
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    created: datetime | None = None

    def on_file(self) -> CardOnFile:
        """The card as the tenant's list shows it."""
        return CardOnFile(
            payment_method_id=self.payment_method_id,
            brand=self.brand,
            last4=self.last4,
            exp_month=self.exp_month,
            exp_year=self.exp_year,
            created=self.created,
        )

    def event_data(self, customer_id: str) -> dict[str, Any]:
        """The fields of a ``payment_method.*`` billing event (``billing_domain``)."""
        return {
            "stripe_payment_method_id": self.payment_method_id,
            "stripe_customer_id": customer_id,
            "brand": self.brand,
            "last4": self.last4,
            "exp_month": self.exp_month,
            "exp_year": self.exp_year,
            "payment_method_created": self.created,
        }


def read_payment_method(payment_method: Mapping[str, Any]) -> CardSummary:
    method_id = text(payment_method, "id")
    if method_id is None:
        raise RuleViolated("payment method without id", code="malformed_payment_method")
    card = mapping(payment_method, "card")
    return CardSummary(
        payment_method_id=method_id,
        customer_id=id_of(payment_method.get("customer")),
        brand=text(card, "brand"),
        last4=text(card, "last4"),
        exp_month=integer(card, "exp_month") or None,
        exp_year=integer(card, "exp_year") or None,
        created=timestamp(payment_method, "created"),
    )
