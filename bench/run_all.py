"""Every benchmark, each beside its baselines measured in the same run, in one table.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
    AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ uv run python -m bench.run_all

Runs ``bench.webhook_ingest``, ``bench.subscription_read`` (the subscription, card
and invoice reads) and ``bench.revenue_metrics`` (issue 23) as they are (their
printed figures are read back) and ``bench.webhook_to_projection`` in process,
plus the service pipeline alone at 50 events/s and at twice the target rate for
context (latency when not loaded; the headroom left), then prints one markdown
table (target, figure, baseline, ratio, goal, met?) with the machine's facts (CPUs,
load average at start and end, Python) and writes it to ``bench/RESULTS.md``
(``--no-write`` to skip). Figures depend on the
machine and on whatever else runs on it: read them with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import re
import sys
from collections.abc import Callable
from pathlib import Path

from bench import webhook_to_projection
from bench.harness import markdown_table

RESULTS = Path(__file__).with_name("RESULTS.md")
COMMAND = (
    "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test "
    "AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ uv run python -m bench.run_all"
)
Row = list[str]


async def run_module(module: str, *args: str) -> str:
    """Run ``python -m module``; echo and return its output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    print(text, file=sys.stderr)
    if process.returncode:
        print(f"{module} exited with {process.returncode}", file=sys.stderr)
    return text


def number(text: str) -> float:
    return float(text.replace(",", "").replace("%", ""))


def fmt(value: float, unit: str = "") -> str:
    if value != value:  # nan
        return "n/a"
    return f"{value:,.0f}{unit}" if value >= 100 else f"{value:.1f}{unit}"


def ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}x" if base and base == base and ours == ours else "n/a"


def met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def markdown_cells(output: str, name: str) -> list[str] | None:
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] == name:
            return cells
    return None


def ingest_rows(output: str) -> list[Row]:
    nan = float("nan")
    service = markdown_cells(output, "webhooks service")
    minimal = markdown_cells(output, "minimal verify + insert")
    bare = markdown_cells(output, "bare FastAPI endpoint")
    fixed = next(
        (
            cells
            for line in output.splitlines()
            if (cells := [c.strip() for c in line.strip().strip("|").split("|")])[0].startswith(
                "webhooks service at a fixed"
            )
        ),
        None,
    )
    svc_rate = number(service[1]) if service else nan
    min_rate = number(minimal[1]) if minimal else nan
    bare_rate = number(bare[1]) if bare else nan
    p99 = number(fixed[3]) if fixed else nan
    errors = (int(number(service[4])) if service else 0) + (int(number(fixed[4])) if fixed else 0)
    return [
        [
            "webhook ingest, events/s (32 connections)",
            fmt(svc_rate),
            f"verify+insert {fmt(min_rate)}; bare FastAPI {fmt(bare_rate)}",
            ratio(svc_rate, min_rate),
            ">= 0.60x verify+insert",
            met(None if svc_rate != svc_rate else svc_rate >= 0.6 * min_rate),
        ],
        [
            f"webhook ingest p99 at a fixed {fixed[0].rsplit(' ', 1)[-1] if fixed else '500/s'}",
            fmt(p99, " ms"),
            "",
            "",
            "< 50 ms",
            met(None if p99 != p99 else p99 < 50),
        ],
        [
            "webhook ingest non-2xx (valid events)",
            str(errors),
            "",
            "",
            "0",
            met(None if service is None else errors == 0),
        ],
    ]


def projection_rows(
    report: webhook_to_projection.Report, contexts: list[webhook_to_projection.Report]
) -> list[Row]:
    s, b, r = report.service, report.baseline, report.broker
    rate = f"{report.rate:.0f}/s"
    rows = []
    for label, p, goal in (("p50", 50, 50.0), ("p99", 99, 250.0)):
        ours = s.pct(p)
        rows.append(
            [
                f"webhook 200 -> projection {label} at {rate}",
                fmt(ours, " ms"),
                f"minimal pipeline {fmt(b.pct(p), ' ms')}; "
                f"broker round trip {fmt(r.pct(p), ' ms')}",
                ratio(ours, b.pct(p)),
                f"< {goal:.0f} ms",
                met(None if ours != ours else ours < goal),
            ]
        )
    rows.append(
        [
            "webhook -> projection: never arrived (10 s after the last)",
            f"{s.missing} of {s.sent}",
            f"minimal pipeline {b.missing} of {b.sent}",
            "",
            "0",
            met(s.missing == 0),
        ]
    )
    for context in contexts:
        alone = context.service
        rows.append(
            [
                f"(context) webhook 200 -> projection p50 / p99 at {context.rate:.0f}/s",
                f"{fmt(alone.pct(50), ' ms')} / {fmt(alone.pct(99), ' ms')}",
                f"never arrived {alone.missing} of {alone.sent}",
                "",
                "",
                "",
            ]
        )
    return rows


def self_service_rows(
    row: Callable[[str, str], tuple[float, float]], base_rate: float, base_p99: float
) -> list[Row]:
    """Issue 21: the card list and the first page of invoices; issue 19: the entitlements
    read (every tenant, free ones too); on the same server, against the same targets.
    A page of 20 invoices is held to the same 20-row select made by a minimal endpoint
    (its ratio to the one-row select is shown beside it: the cost of 20 rows)."""
    rows = []
    labels = (
        "GET /api/billing/payment-methods",
        "GET /api/billing/invoices (20)",
        "GET /api/billing/entitlements",
    )
    list_rate, _ = row("baseline: asyncpg 20-row select", "max")
    _, list_p99 = row("baseline: asyncpg 20-row select", "fixed")
    for label in labels:
        rate, _ = row(label, "max")
        _, p99 = row(label, "fixed")
        against, against_p99, name = base_rate, base_p99, "PK select"
        if "invoices" in label:
            against, against_p99, name = list_rate, list_p99, "20-row select"
        beside = f"asyncpg {name} {fmt(against)}"
        if name != "PK select":
            beside += f"; PK select {fmt(base_rate)} ({ratio(rate, base_rate)})"
        rows += [
            [
                f"{label[4:]} read, requests/s (32 connections)",
                fmt(rate),
                beside,
                ratio(rate, against),
                f">= 0.60x {name}",
                met(None if rate != rate else rate >= 0.6 * against),
            ],
            [
                f"{label[4:]} read p99 at a fixed 500/s",
                fmt(p99, " ms"),
                f"asyncpg {name} {fmt(against_p99, ' ms')}",
                ratio(p99, against_p99),
                "< 30 ms",
                met(None if p99 != p99 else p99 < 30),
            ],
        ]
    return rows


def read_rows(output: str) -> list[Row]:
    nan = float("nan")

    def row(prefix: str, mode: str) -> tuple[float, float]:
        for line in output.splitlines():
            if line.startswith(prefix) and mode in line:
                tokens = line.split()
                return number(tokens[-3]), number(tokens[-1])  # req/s, p99
        return nan, nan

    svc_rate, _ = row("GET /api/billing/subscription", "max")
    base_rate, _ = row("baseline: asyncpg PK select", "max")
    _, svc_p99 = row("GET /api/billing/subscription", "fixed")
    _, base_p99 = row("baseline: asyncpg PK select", "fixed")
    match = re.search(r"Stripe calls during the run:\s+(\d+)", output)
    stripe_calls = int(match.group(1)) if match else None
    return [
        [
            "subscription read, requests/s (32 connections)",
            fmt(svc_rate),
            f"asyncpg PK select {fmt(base_rate)}",
            ratio(svc_rate, base_rate),
            ">= 0.60x PK select",
            met(None if svc_rate != svc_rate else svc_rate >= 0.6 * base_rate),
        ],
        [
            "subscription read p99 at a fixed 500/s",
            fmt(svc_p99, " ms"),
            f"asyncpg PK select {fmt(base_p99, ' ms')}",
            ratio(svc_p99, base_p99),
            "< 30 ms",
            met(None if svc_p99 != svc_p99 else svc_p99 < 30),
        ],
        *self_service_rows(row, base_rate, base_p99),
        [
            "subscription read: Stripe calls",
            "n/a" if stripe_calls is None else str(stripe_calls),
            "",
            "",
            "0",
            met(None if stripe_calls is None else stripe_calls == 0),
        ],
    ]


def revenue_rows(output: str) -> list[Row]:
    """Issue 23: the revenue metrics over 10,000 tenants and a year (bench.revenue_metrics)."""
    nan = float("nan")
    base = markdown_cells(output, "baseline: plain aggregate of the ledger")
    base_ms = number(base[1]) if base else nan
    rows = []
    for interval in ("day", "week", "month"):
        cells = markdown_cells(output, f"metrics, a year by {interval}")
        median = number(cells[1]) if cells else nan
        p95 = number(cells[2]) if cells else nan
        rows.append(
            [
                f"revenue metrics, a year by {interval} (10,000 tenants), median / p95",
                f"{fmt(median, ' ms')} / {fmt(p95, ' ms')}",
                f"plain aggregate {fmt(base_ms, ' ms')}",
                ratio(median, base_ms),
                "< 200 ms",
                met(None if p95 != p95 else p95 < 200),
            ]
        )
    return rows


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


async def main(args: argparse.Namespace) -> None:
    started = datetime.datetime.now(datetime.UTC)
    load_start = load()
    ingest = await run_module("bench.webhook_ingest")
    projection = await webhook_to_projection.run(
        webhook_to_projection.parser().parse_args(["--rate", str(args.rate)])
    )
    print(projection.table(), file=sys.stderr)
    contexts = [
        await webhook_to_projection.run(
            webhook_to_projection.parser().parse_args(["--rate", str(rate), "--service-only"])
        )
        for rate in (50, 2 * args.rate)
    ]
    reads = await run_module("bench.subscription_read")
    revenue = await run_module("bench.revenue_metrics")
    rows = (
        ingest_rows(ingest)
        + projection_rows(projection, contexts)
        + read_rows(reads)
        + revenue_rows(revenue)
    )
    table = markdown_table(
        ["target", "figure", "baseline (same run)", "ratio", "goal", "met?"], rows
    )
    facts = (
        f"{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()}, "
        f"load average (1/5/15 min) at start {load_start}, at end {load()}"
    )
    report = "\n".join(
        [
            "# Benchmark results",
            "",
            f"`{COMMAND}`",
            "",
            facts,
            "",
            table,
            "",
            "Webhook 200 -> projection, per pipeline:",
            "",
            projection.table(),
            "",
            f"Projection probe: {projection.service.polls / projection.service.seconds:.0f} "
            "polls/s. Per pipeline, the CPU its processes used during the measured run:",
            "",
            f"- {projection.service.summary()}",
            f"- {projection.baseline.summary()}",
            *(f"- at {c.rate:.0f}/s: {c.service.summary()}" for c in contexts),
            "",
        ]
    )
    print(report)
    if args.write:
        RESULTS.write_text(report)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200, help="webhook -> projection events/s")
    parser.add_argument("--no-write", dest="write", action="store_false")
    asyncio.run(main(parser.parse_args()))
