"""Prometheus metrics of the analytics service: the KPI gauges the alert rules read.

The gauges are sampled from the ledger (``kpi_gauges.sample_kpis``) so every replica
reports the same deduplicated numbers, dated by Stripe's clock; alert rules take
``max`` over replicas.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

PAYMENT_FAILURES = Counter(
    "billing_analytics_payment_failures_total",
    "Invoices whose payment failed for the first time (each invoice once).",
    ["currency"],
)
MRR = Gauge(
    "billing_analytics_mrr_minor_units",
    "Monthly recurring revenue now, per currency (minor units; docs/metrics.md).",
    ["currency"],
)
PAYING_SUBSCRIPTIONS = Gauge(
    "billing_analytics_paying_subscriptions",
    "Subscriptions counting toward MRR now (active or past_due, paid plan).",
    ["currency"],
)
INVOICE_PAYMENT_ATTEMPTS = Gauge(
    "billing_analytics_invoice_payment_attempts",
    "Invoice payment attempts in the last hour by Stripe's clock: paid invoices and failed "
    "attempts, each counted once however often its event was delivered.",
    ["outcome"],
)
PAYMENT_FAILURE_RATIO = Gauge(
    "billing_analytics_payment_failure_ratio_1h",
    "Failed invoice payment attempts / all attempts in the last hour (0 without attempts).",
)
KPI_SAMPLED_AT = Gauge(
    "billing_analytics_kpis_sampled_timestamp_seconds",
    "When the KPI gauges were last sampled from the ledger.",
)
