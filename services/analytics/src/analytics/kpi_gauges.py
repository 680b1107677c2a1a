"""The KPI gauges (``analytics.metrics``), sampled from the ledger every 15 s."""

from __future__ import annotations

import asyncio

import structlog
from billing_domain.clock import Clock
from billing_platform.wakeup import sleep_or_stop

from analytics import metrics
from analytics.ports import Kpis, MetricsReader

log = structlog.get_logger("analytics.kpi_gauges")

SAMPLE_INTERVAL_S = 15.0


def set_gauges(kpis: Kpis, now_s: float) -> None:
    for currency, mrr in kpis.mrr.items():
        metrics.MRR.labels(currency).set(mrr)
    for currency, paying in kpis.paying.items():
        metrics.PAYING_SUBSCRIPTIONS.labels(currency).set(paying)
    paid, failed = kpis.invoices_paid_1h, kpis.payment_attempts_failed_1h
    metrics.INVOICE_PAYMENT_ATTEMPTS.labels("paid").set(paid)
    metrics.INVOICE_PAYMENT_ATTEMPTS.labels("failed").set(failed)
    metrics.PAYMENT_FAILURE_RATIO.set(failed / (paid + failed) if paid + failed else 0.0)
    metrics.KPI_SAMPLED_AT.set(now_s)


async def run_kpi_gauges(stop: asyncio.Event, reader: MetricsReader, clock: Clock) -> None:
    while not stop.is_set():
        try:
            now = clock.now()
            set_gauges(await reader.kpis(now), now.timestamp())
        except Exception:  # a database outage must not end the sampling
            log.warning("analytics.kpi_gauges.sample_failed", exc_info=True)
        await sleep_or_stop(stop, SAMPLE_INTERVAL_S)
