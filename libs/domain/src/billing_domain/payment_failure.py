"""The payment-failure state a tenant sees while Stripe retries a failed invoice."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from billing_domain.money import Money
from billing_domain.timestamps import ensure_utc


class AttemptOutcome(enum.StrEnum):
    DECLINED = "declined"
    """The charge failed (a decline, an expired card, no card at all)."""
    ACTION_REQUIRED = "action_required"
    """The bank asks the customer to confirm it (3-D Secure)."""


@dataclass(frozen=True, kw_only=True)
class PaymentAttempt:
    """One attempt to collect a failed invoice, as the tenant's timeline shows it."""

    number: int
    """Stripe's ``attempt_count`` of the invoice after this attempt (1 = the first)."""
    at: datetime | None
    """When it happened (the time of Stripe's event)."""
    outcome: AttemptOutcome
    decline_code: str | None = None
    """Why it failed, in Stripe's words: the ``decline_code`` of a declined card, else the
    error ``code`` (``expired_card``, ``incorrect_cvc`` ...). Pages word it; never shown raw."""
    card_brand: str | None = None
    card_last4: str | None = None

    def __post_init__(self) -> None:
        if self.at is not None:
            object.__setattr__(self, "at", ensure_utc(self.at, name="at"))

    def told_more_than(self, other: PaymentAttempt) -> bool:
        """Two reports of one attempt (``invoice.payment_failed`` and
        ``invoice.payment_action_required``): the one that says what happened wins."""
        return (self.decline_code, self.card_last4) != (None, None) and (
            other.decline_code,
            other.card_last4,
        ) == (None, None)


def merged_attempts(
    earlier: tuple[PaymentAttempt, ...], later: tuple[PaymentAttempt, ...]
) -> tuple[PaymentAttempt, ...]:
    """One entry per attempt number, oldest first: a later report of the same attempt
    replaces the earlier one unless it knows less (events arrive in any order)."""
    by_number = {attempt.number: attempt for attempt in earlier}
    for attempt in later:
        known = by_number.get(attempt.number)
        if known is None or not known.told_more_than(attempt):
            by_number[attempt.number] = attempt
    return tuple(by_number[number] for number in sorted(by_number))


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
    attempts: tuple[PaymentAttempt, ...] = ()
    """The attempts of this invoice we heard of, oldest first (the tenant's timeline)."""

    @property
    def latest_attempt(self) -> PaymentAttempt | None:
        return self.attempts[-1] if self.attempts else None

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
        if same and earlier is not None and earlier.attempts:
            merged = merged_attempts(earlier.attempts, self.attempts)
            if merged != self.attempts:
                return replace(self, attempts=merged).continuing(earlier, failed_at)
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

    def needing_action(self, reported: PaymentFailure | None = None) -> PaymentFailure:
        """This failure once Stripe said its latest attempt waits for the customer
        (``reported``: that report, whose attempt joins the timeline)."""
        attempts = self.attempts
        if reported is not None:
            attempts = merged_attempts(attempts, reported.attempts)
        return replace(self, action_required=True, attempts=attempts)

    def with_past_attempts(self, attempts: tuple[PaymentAttempt, ...]) -> PaymentFailure:
        """This failure with attempts reported late (older events): only the ones it did
        not know of join its timeline, and the earliest moves ``since`` back."""
        known = {attempt.number for attempt in self.attempts}
        late = tuple(attempt for attempt in attempts if attempt.number not in known)
        if not late:
            return self
        times = [attempt.at for attempt in late if attempt.at is not None]
        since = self.since
        if times and (since is None or min(times) < since):
            since = min(times)  # it first failed earlier than we first heard
        return replace(self, attempts=merged_attempts(self.attempts, late), since=since)

    def is_cleared_by(self, paid_invoice_id: str) -> bool:
        return self.invoice_id is None or self.invoice_id == paid_invoice_id
