"""The payment-failure state a tenant sees while Stripe retries a failed invoice."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    since: datetime | None = None
    """When the invoice first failed (Stripe's time of that event): how long the tenant
    has been in this state, and the start of "time to resolve a payment failure"."""
    attempt_count: int = 1
    """Stripe's ``attempt_count`` of the invoice: how many times it was tried."""
    action_required: bool = False
    """The latest attempt waits for the customer (3-D Secure: Stripe's
    ``invoice.payment_action_required``): they confirm it on the hosted invoice page."""

    def __post_init__(self) -> None:
        for name in ("next_payment_attempt", "since"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, ensure_utc(value, name=name))

    def continuing(
        self, earlier: PaymentFailure | None, failed_at: datetime | None
    ) -> PaymentFailure:
        """This failure as the account keeps it: a retry of the same invoice that failed
        again keeps the first failure's ``since``; a new one starts at ``failed_at``."""
        same = earlier is not None and earlier.invoice_id == self.invoice_id
        # invoice.payment_action_required of this very attempt came first: keep its mark
        if (
            same
            and earlier is not None
            and earlier.action_required
            and not self.action_required
            and earlier.attempt_count >= self.attempt_count
        ):
            return replace(self, action_required=True).continuing(earlier, failed_at)
        if same and earlier is not None and earlier.since:
            return replace(self, since=earlier.since)
        return self if self.since is not None else replace(self, since=failed_at)

    def needing_action(self) -> PaymentFailure:
        """This failure once Stripe said its latest attempt waits for the customer."""
        return replace(self, action_required=True)

    def is_cleared_by(self, paid_invoice_id: str) -> bool:
        return self.invoice_id is None or self.invoice_id == paid_invoice_id
