"""Prometheus metrics of the subscriptions service: the billing KPIs it is the source of.

Counted from what the aggregate records, i.e. once per real change (a redelivered
or stale event records nothing): activations, cancellations scheduled and done,
resumes, plan changes, payment failures set and cleared, and the time a payment
failure took to resolve (from the invoice's first failure to its payment, both in
Stripe's time). Rates, ratios and quantiles (cancellation rate, payment failure
rate, median time to resolve) are recording rules in
``deploy/observability/alerts.yml``.
"""

from __future__ import annotations

from collections.abc import Iterable

from billing_domain import account_events
from prometheus_client import Counter, Histogram

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

HOUR = 3600.0
PAYMENT_FAILURE_RESOLUTION = Histogram(
    "billing_payment_failure_resolution_seconds",
    "Time from an invoice's first failed payment to its payment (Stripe's clock).",
    buckets=(
        5 * 60,
        HOUR,
        6 * HOUR,
        24 * HOUR,
        3 * 24 * HOUR,
        7 * 24 * HOUR,
        14 * 24 * HOUR,
        30 * 24 * HOUR,
    ),
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
            resolved_after = event.failure_resolved_after
            if resolved_after is not None:
                PAYMENT_FAILURE_RESOLUTION.observe(resolved_after)


TRIAL_ACTIONS = Counter(
    "billing_trial_actions_total",
    "Trial actions this service carried out at Stripe (issue 20), by action: converted "
    "(an owner's convert now), extended (an operator's extension), paused_resume_requested "
    "(a subscription paused at the end of a cardless trial, resumed once it has a card).",
    ["action"],
)
TRIAL_EXTENSION_DAYS = Counter(
    "billing_trial_extension_days_total", "Trial days operators granted (issue 20)."
)

OPERATOR_ACTIONS = Counter(
    "billing_operator_actions_total",
    "Operators' actions on the failed-payment queue (issue 23), by action (retry_payment, "
    "remind) and outcome (requested, stripe_paid, stripe_declined, stripe_requires_action, "
    "stripe_refused, stripe_unavailable, nothing_due).",
    ["action", "outcome"],
)


SELF_SERVICE_ACTIONS = Counter(
    "billing_self_service_actions_total",
    "Owners' payment-method and invoice actions (issue 21), by action and outcome.",
    ["action", "outcome"],
)
