"""Prometheus metrics of the notifications service."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MAILS = Counter(
    "billing_notifications_mails_total",
    "Send attempts by kind and result (sent, failed, deferred, skipped).",
    ["kind", "result"],
)
QUEUED = Counter(
    "billing_notifications_mails_queued_total", "Mails queued in the send log.", ["kind"]
)
SEND_SECONDS = Histogram(
    "billing_notifications_smtp_send_seconds",
    "Time the SMTP server took to take (or refuse) a mail.",
)
