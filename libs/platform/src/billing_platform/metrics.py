"""Prometheus metrics shared by every service (prometheus-client).

Defined once per process, labelled by service, so ``billing dev`` can run the
three apps in one process on one registry. Services define their business
metrics (conversions, failures...) beside their use cases the same way.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

HTTP_REQUESTS = Counter(
    "billing_http_requests_total",
    "HTTP requests answered, by service, method, route template and status.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "billing_http_request_duration_seconds",
    "HTTP request latency by service and route template.",
    ["service", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OUTBOX_PUBLISHED = Counter(
    "billing_outbox_published_total", "Outbox messages confirmed by the broker.", ["schema"]
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "billing_outbox_publish_failures_total",
    "Outbox messages the broker did not confirm (retried later).",
    ["schema"],
)

# Sampled every few seconds by each service (billing_platform.backlog_gauges).
OUTBOX_OLDEST_UNSENT_AGE = Gauge(
    "billing_outbox_oldest_unsent_age_seconds",
    "Age of the oldest outbox row the broker has not confirmed yet (0 when none).",
    ["service"],
)
QUEUE_DEPTH = Gauge(
    "billing_queue_depth", "Messages ready in a consumer's queue (consumer lag).", ["queue"]
)
DLQ_DEPTH = Gauge(
    "billing_dlq_depth",
    "Messages in a consumer queue's dead-letter queue (billing events dlq list --queue).",
    ["queue"],
)


def render_latest() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
