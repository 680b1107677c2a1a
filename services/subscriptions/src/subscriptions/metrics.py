"""Prometheus metrics of the subscriptions service: the billing KPIs it is the source of.

Counted from what the aggregate records, i.e. once per real change (a redelivered
or stale event records nothing): activations, cancellations scheduled and done,
resumes, plan changes, payment failures set and cleared. Rates and ratios
(cancellation rate, payment failure rate) are recording rules in
``deploy/observability/alerts.yml``.
"""

from __future__ import annotations

from collections.abc import Iterable

from billing_domain import account_events
from prometheus_client import Counter

CHANGES = Counter(
    "billing_subscription_changes_total",
    "Changes of tenants' subscriptions, by kind (activated, canceled, ...).",
    ["change"],
)
PAYMENT_FAILURES = Counter(
    "billing_payment_failures_total", "Invoices whose payment failed (payment-failure state set)."
)
PAYMENT_FAILURES_RESOLVED = Counter(
    "billing_payment_failures_resolved_total",
    "Payment failures cleared by a paid invoice.",
)

_CHANGE_NAMES: dict[type[account_events.AccountEvent], str] = {
    account_events.SubscriptionActivated: "activated",
    account_events.SubscriptionCanceled: "canceled",
    account_events.SubscriptionCancelScheduled: "cancel_scheduled",
    account_events.SubscriptionResumed: "resumed",
    account_events.SubscriptionPlanChanged: "plan_changed",
}


def count_recorded(recorded: Iterable[account_events.AccountEvent]) -> None:
    for event in recorded:
        change = _CHANGE_NAMES.get(type(event))
        if change is not None:
            CHANGES.labels(change).inc()
        elif isinstance(event, account_events.PaymentFailed):
            PAYMENT_FAILURES.inc()
        elif isinstance(event, account_events.InvoicePaid) and event.cleared_payment_failure:
            PAYMENT_FAILURES_RESOLVED.inc()
