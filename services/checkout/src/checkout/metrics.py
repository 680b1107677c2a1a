"""Business metrics of the checkout service (KPIs: checkout conversion, portal sessions,
checkout creation failure rate). Counters are per process, on the shared registry."""

from __future__ import annotations

from prometheus_client import Counter

CHECKOUT_SESSIONS_CREATED = Counter(
    "billing_checkout_sessions_created_total",
    "Checkout sessions opened at Stripe (replays of a double click not counted).",
    ["plan", "trial"],
)
CHECKOUT_CREATION_FAILURES = Counter(
    "billing_checkout_creation_failures_total",
    "Checkout creations that failed on our side or Stripe's (5xx answers).",
    ["reason"],
)
CHECKOUT_SESSIONS_COMPLETED = Counter(
    "billing_checkout_sessions_completed_total",
    "Checkout sessions completed and paid (from billing.checkout.completed).",
    ["plan"],
)
PORTAL_SESSIONS_CREATED = Counter(
    "billing_portal_sessions_created_total", "Customer Portal sessions opened."
)
