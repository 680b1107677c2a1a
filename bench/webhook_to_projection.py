"""End to end: a webhook's 200 -> the subscriptions projection updated, through RabbitMQ.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
    AMQP_URL=amqp://guest:guest@127.0.0.1:5672/ uv run python -m bench.webhook_to_projection

Runs ``billing serve webhooks`` and ``billing serve subscriptions`` as processes on
a scratch database (``billing migrate``), real RabbitMQ on an exchange of their
own, no Stripe key. Sends ``customer.subscription.updated`` events (shaped from
the official fixture: ``metadata.tenant_id``, our price ids, ``schedule: null``, so
nothing reads Stripe), one new tenant each, at a fixed rate, and times each
webhook's 200 -> its tenant's row in ``subscriptions.billing_accounts``
(``bench.projection_probe``). Path measured: ingest (insert + NOTIFY) -> worker
(claim, translate, outbox, NOTIFY) -> relay (publish with confirm) -> consumer
(inbox, projection, commit).

Baselines in the same run: the minimal pipeline (``bench.pipeline_baseline``:
verify + insert, 200, publish with confirm, a consumer upserts a row), and the
broker's own publish -> consume round trip. Targets (issue 8): p50 < 50 ms,
p99 < 250 ms at 200 events/s, none lost.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass

from billing_platform.messaging.rabbitmq import dead_letter_exchange, dead_letter_queue
from billing_platform.testing.processes import free_port
from subscriptions.consumer import queue_name

from bench.broker_round_trip import broker_round_trip, delete_broker_objects
from bench.harness import background, billing, markdown_table, python_module, scratch_database
from bench.harness import server as http_server
from bench.projection_probe import PipelineResult, drive, subscription_events

SECRET = "whsec_bench_projection"
PRICES = {"solo": "price_bench_solo", "team": "price_bench_team", "enterprise": "price_bench_ent"}


@dataclass
class Report:
    rate: float
    seconds: float
    service: PipelineResult
    baseline: PipelineResult
    broker: PipelineResult

    def table(self) -> str:
        rows = [
            [
                r.name,
                str(r.sent),
                f"{r.pct(50):.1f}",
                f"{r.pct(99):.1f}",
                f"{r.pct(100):.1f}",
                str(r.missing),
                str(r.non_2xx),
            ]
            for r in (self.service, self.baseline, self.broker)
        ]
        header = ["pipeline", "events", "p50 ms", "p99 ms", "max ms", "never arrived", "non-2xx"]
        return markdown_table(header, rows)


def _env(database_url: str, exchange: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "AMQP_URL": os.environ["AMQP_URL"],
        "BILLING_EXCHANGE": exchange,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "JWT_SECRET": "bench-jwt-secret-0123456789",
        "JWT_AUDIENCE": "billing",
        "JWT_ISSUER": "https://id.billing.test",
        "STRIPE_API_KEY": "",
        "STRIPE_PRICE_SOLO": PRICES["solo"],
        "STRIPE_PRICE_TEAM": PRICES["team"],
        "STRIPE_PRICE_ENTERPRISE": PRICES["enterprise"],
        "LOG_LEVEL": "WARNING",
        "BENCH_EXCHANGE": exchange + ".baseline",
        "BENCH_QUEUE": exchange + ".baseline.projection",
    }


async def _measure(
    name: str, port: int, database_url: str, table: str, args: argparse.Namespace
) -> PipelineResult:
    to = functools.partial(drive, port=port, secret=SECRET, database_url=database_url, table=table)
    warm = subscription_events(f"w{port}", 50, PRICES["team"])
    await to(f"{name} (warm-up)", events=warm, rate=50, timeout=30)
    events = subscription_events(f"r{port}", int(args.rate * args.seconds), PRICES["team"])
    result = await to(name, events=events, rate=args.rate, poll_interval=args.poll_ms / 1000)
    print(result.summary(), file=sys.stderr)
    return result


async def _migrate(env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *billing("migrate"),
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"billing migrate failed: {output.decode()[-2000:]}")


async def run(args: argparse.Namespace) -> Report:
    if not os.environ.get("AMQP_URL"):
        raise SystemExit("set AMQP_URL (e.g. amqp://guest:guest@127.0.0.1:5672/)")
    exchange = f"bench.{uuid.uuid4().hex[:8]}"
    async with scratch_database() as database_url:
        env = _env(database_url, exchange)
        await _migrate(env)
        webhooks, subscriptions, ingest = free_port(), free_port(), free_port()
        try:
            with (
                http_server(
                    billing("serve", "webhooks", "--port", str(webhooks)), webhooks, env, "/readyz"
                ),
                http_server(
                    billing("serve", "subscriptions", "--port", str(subscriptions)),
                    subscriptions,
                    env,
                    "/readyz",
                ),
            ):
                service = await _measure(
                    "webhooks -> outbox -> RabbitMQ -> subscriptions projection",
                    webhooks,
                    database_url,
                    "subscriptions.billing_accounts",
                    args,
                )
            if args.service_only:
                return Report(
                    args.rate, args.seconds, service, PipelineResult("-"), PipelineResult("-")
                )
            with (
                http_server(
                    python_module("bench.pipeline_baseline", "ingest", "--port", str(ingest)),
                    ingest,
                    env,
                    "/readyz",
                ),
                background(python_module("bench.pipeline_baseline", "consume"), env),
            ):
                baseline = await _measure(
                    "minimal: verify + insert, 200, publish, consumer upserts",
                    ingest,
                    database_url,
                    "bench_projection",
                    args,
                )
            broker = await broker_round_trip(
                os.environ["AMQP_URL"], rate=args.rate, seconds=args.seconds
            )
        finally:
            queue = queue_name(exchange)
            await delete_broker_objects(
                os.environ["AMQP_URL"],
                queues=[queue, dead_letter_queue(queue), env["BENCH_QUEUE"]],
                exchanges=[exchange, dead_letter_exchange(exchange), env["BENCH_EXCHANGE"]],
            )
    return Report(args.rate, args.seconds, service, baseline, broker)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--service-only", action="store_true", help="skip the baselines")
    parser.add_argument("--poll-ms", type=float, default=2, help="projection poll interval")
    return parser


def main() -> None:
    args = parser().parse_args()
    report = asyncio.run(run(args))
    print(
        f"\nWebhook 200 -> projection updated, {args.rate:.0f} events/s for {args.seconds:.0f} s\n"
    )
    print(report.table())
    s = report.service
    print(
        f"\np50 {s.pct(50):.1f} ms (target < 50), p99 {s.pct(99):.1f} ms (target < 250), "
        f"never arrived {s.missing} (target 0); probe: {s.polls / s.seconds:.0f} polls/s, "
        f"its Postgres backend used {s.poll_backend_cpu:.2f} s CPU in {s.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
