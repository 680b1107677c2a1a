"""The subscription body of the HTTP contract, built from a billing account."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from billing_domain.payment_failure import PaymentAttempt
from billing_domain.subscription import BillingAccount
from billing_domain.subscription_snapshot import PendingPlanChange
from billing_domain.timestamps import to_rfc3339


def _time(value: datetime | None) -> str | None:
    return None if value is None else to_rfc3339(value)


_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
# Plainly https to a named host (what Stripe's invoice pages are): followable without
# parsing. Anything else is judged by urlsplit below (the invoices page shows 40 urls).
_PLAIN_HTTPS = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[^\s]*)?")


def followable_url(url: str | None) -> str | None:
    """``url`` when a page may put it in an ``href``: ``https``, or ``http`` to this
    machine (the Stripe sandbox of ``billing dev``); anything else (``javascript:``,
    ``data:``, a plain-http host) is dropped. Stripe's invoice pages are https."""
    if not url:
        return None
    if _PLAIN_HTTPS.fullmatch(url):
        return url
    return followable_by_parsing(url)


def followable_by_parsing(url: str) -> str | None:
    """The rule itself, read with urlsplit (``followable_url``'s fast path agrees)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return url
    return None


def subscription_body(account: BillingAccount, *, now: datetime) -> dict[str, Any]:
    """``GET /api/billing/subscription``: plain JSON-ready data, no Stripe involved.
    ``now`` is our clock; the days left of a trial are counted on the subscription's
    (``BillingAccount.trial_ends_in_days``)."""
    failure = account.payment_failure
    pending = account.pending_plan
    return {
        "tenant_id": account.tenant_id,
        "plan_type": account.plan.value,
        "status": account.status.value,
        "status_label": account.status.label,
        "cancel_at_period_end": account.cancel_at_period_end,
        "current_period_end": _time(account.current_period_end),
        "trial_end": _time(account.trial_end),
        "payment_failed": None
        if failure is None
        else {
            "amount_due": failure.amount_due.amount,
            "currency": failure.amount_due.currency,
            "hosted_invoice_url": followable_url(failure.hosted_invoice_url),
            "next_payment_attempt": _time(failure.next_payment_attempt),
            "invoice_id": failure.invoice_id,
            "since": _time(failure.since),
            "attempt_count": failure.attempt_count,
            "requires_action": failure.action_required,
            **latest_attempt_body(failure.attempts),
        },
        "pending_plan": None if pending is None else pending_body(pending),
        "has_payment_method": account.has_payment_method,
        "ended": None
        if account.ended is None
        else {"reason": account.ended.reason.value, "plan": account.ended.plan.value},
        "trial_ends_in_days": account.trial_ends_in_days(now),
        "interval": account.interval.value,
    }


def latest_attempt_body(attempts: tuple[PaymentAttempt, ...]) -> dict[str, Any]:
    """Why the latest attempt failed and on which card, and the attempts oldest first."""
    latest = attempts[-1] if attempts else None
    return {
        "decline_code": None if latest is None else latest.decline_code,
        "card": None if latest is None else _card(latest),
        "attempts": [
            {
                "at": _time(attempt.at),
                "outcome": attempt.outcome.value,
                "decline_code": attempt.decline_code,
                "card": _card(attempt),
            }
            for attempt in attempts
        ],
    }


def _card(attempt: PaymentAttempt) -> dict[str, str | None] | None:
    if attempt.card_last4 is None:
        return None
    return {"brand": attempt.card_brand, "last4": attempt.card_last4}


def pending_body(pending: PendingPlanChange) -> dict[str, Any]:
    return {
        "plan": pending.plan.value,
        "effective_at": to_rfc3339(pending.effective_at),
        "interval": pending.interval.value,
    }
