"""Prometheus metrics of the webhooks service (module-level, one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from webhooks.translate import HANDLED_TYPES

RECEIVED = Counter(
    "billing_webhooks_received_total",
    "Stripe webhook requests by event type and result (accepted, duplicate, rejected).",
    ["event_type", "result"],
)
REJECTED = Counter(
    "billing_webhooks_rejected_total",
    "Rejected webhook requests by reason (the error code answered).",
    ["reason"],
)
PROCESSED = Counter(
    "billing_webhooks_processed_total",
    "Processing outcomes by event type: processed, retrying, failed, parked.",
    ["event_type", "outcome"],
)
API_VERSION_MISMATCH = Counter(
    "billing_webhooks_api_version_mismatch_total",
    "Events stored whose Stripe API version is not the pinned one (recreate the endpoint).",
    ["api_version"],
)
UNTRUSTED = Counter(
    "billing_webhooks_untrusted_total",
    "Validly signed events not acted on (stored, ignored): livemode_mismatch, foreign_account.",
    ["reason"],
)
ATTEMPT_FAILURES = Counter(
    "billing_webhooks_attempt_failures_total",
    "Processing attempts that raised (each retry counts).",
    ["event_type"],
)
LEASE_LOST = Counter(
    "billing_webhooks_lease_lost_total",
    "Finished events whose lease another worker had taken over (nothing written).",
)
BACKLOG = Gauge(
    "billing_webhooks_backlog", "Stored events waiting to be processed (pending or retrying)."
)
OLDEST_WAITING_AGE = Gauge(
    "billing_webhooks_oldest_waiting_age_seconds",
    "Age of the oldest event waiting to be processed (0 when none).",
)
OUTBOX_BACKLOG = Gauge(
    "billing_webhooks_outbox_backlog", "Billing events written but not yet confirmed by the broker."
)
EVENTS = Gauge(
    "billing_webhooks_events",
    "Stored events by status (pending, retrying, failed, parked; processed is not counted).",
    ["status"],
)


def type_label(event_type: str) -> str:
    """Bounded label values: the handled types by name, the rest as ``other``."""
    return event_type if event_type in HANDLED_TYPES else "other"
