"""The payment-failure state a tenant sees while Stripe retries a failed invoice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from billing_domain.money import Money
from billing_domain.timestamps import ensure_utc


@dataclass(frozen=True, kw_only=True)
class PaymentFailure:
    amount_due: Money
    hosted_invoice_url: str | None = None
    next_payment_attempt: datetime | None = None
    """When Stripe retries next; ``None`` once it has given up."""
    invoice_id: str | None = None
    """The failed invoice: paying *that* invoice clears the failure."""

    def __post_init__(self) -> None:
        if self.next_payment_attempt is not None:
            at = ensure_utc(self.next_payment_attempt, name="next_payment_attempt")
            object.__setattr__(self, "next_payment_attempt", at)

    def is_cleared_by(self, paid_invoice_id: str) -> bool:
        return self.invoice_id is None or self.invoice_id == paid_invoice_id
