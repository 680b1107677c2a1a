"""The failed-payment queue operators work from, and the rules of its actions.

A tenant is in the queue while its subscription is in one of ``QUEUE_STATUSES``
(Stripe is retrying, gave up, the first payment never went through, or the
subscription is paused). An operator may ask Stripe to charge the failed invoice
again with the customer's default method (``retry_payment``) or ask for the
payment-failed email now (``remind``); both need something to be due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from billing_domain.errors import Conflict, RuleViolated
from billing_domain.status import SubscriptionStatus
from billing_domain.subscription import BillingAccount
from billing_domain.timestamps import ensure_utc

QUEUE_STATUSES: tuple[SubscriptionStatus, ...] = (
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.INCOMPLETE,
    SubscriptionStatus.PAUSED,
)
"""Statuses that put a tenant in the failed-payment queue."""

_CURRENCY = re.compile(r"[a-z]{3}")


class OperatorAction(StrEnum):
    RETRY_PAYMENT = "retry_payment"
    REMIND = "remind"


class ActionOutcome(StrEnum):
    """What became of an operator's action (the audit's ``outcome``)."""

    PENDING = "pending"
    """Recorded before Stripe was called; replaced by Stripe's answer."""
    REQUESTED = "requested"
    """Remind: the event is in the outbox."""
    STRIPE_PAID = "stripe_paid"
    STRIPE_DECLINED = "stripe_declined"
    STRIPE_REQUIRES_ACTION = "stripe_requires_action"
    STRIPE_REFUSED = "stripe_refused"
    STRIPE_UNAVAILABLE = "stripe_unavailable"
    NOTHING_DUE = "nothing_due"


class PaymentAttempt(StrEnum):
    """Stripe's immediate answer to ``invoices.pay`` (the webhook brings the result)."""

    PAID = "paid"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"

    @property
    def outcome(self) -> ActionOutcome:
        return {
            PaymentAttempt.PAID: ActionOutcome.STRIPE_PAID,
            PaymentAttempt.DECLINED: ActionOutcome.STRIPE_DECLINED,
            PaymentAttempt.REQUIRES_ACTION: ActionOutcome.STRIPE_REQUIRES_ACTION,
        }[self]


def parse_queue_status(value: str) -> SubscriptionStatus:
    """A ``?status=`` filter: one of ``QUEUE_STATUSES`` (else ``RuleViolated``)."""
    for status in QUEUE_STATUSES:
        if value == status.value:
            return status
    names = ", ".join(s.value for s in QUEUE_STATUSES)
    raise RuleViolated(f"status must be one of: {names}", code="unknown_status")


def parse_currency(value: str) -> str:
    """A ``?currency=`` filter: an ISO 4217 code, any case (else ``RuleViolated``)."""
    currency = value.strip().lower()
    if not _CURRENCY.fullmatch(currency):
        raise RuleViolated("currency must be a three-letter ISO code", code="unknown_currency")
    return currency


def is_in_queue(account: BillingAccount) -> bool:
    return account.status in QUEUE_STATUSES


def days_past_due(since: datetime | None, now: datetime) -> int | None:
    """Whole days since the invoice first failed; ``None`` when that is not known."""
    if since is None:
        return None
    elapsed = ensure_utc(now, name="now") - ensure_utc(since, name="since")
    return max(elapsed.days, 0)


@dataclass(frozen=True, kw_only=True)
class DueInvoice:
    invoice_id: str
    """The failed invoice Stripe is asked to charge again (or the reminder is about)."""


def invoice_due(account: BillingAccount) -> DueInvoice:
    """The tenant's failed invoice, open and owed; ``Conflict(nothing_due)`` when the
    tenant owes nothing an operator can collect (no failure recorded, or it ended)."""
    failure = account.payment_failure
    if account.status.is_ended or failure is None or failure.invoice_id is None:
        raise Conflict(
            f"tenant {account.tenant_id} has no failed invoice to collect", code="nothing_due"
        )
    return DueInvoice(invoice_id=failure.invoice_id)
