"""The minimal webhook -> RabbitMQ -> projection pipeline: the ceiling of the real one.

Two processes, like the real services:

- ``ingest``: a FastAPI endpoint that checks the HMAC of ``Stripe-Signature``,
  does one asyncpg ``INSERT ... ON CONFLICT DO NOTHING``, answers 200, and only
  then (a background task) publishes the event to RabbitMQ with a publisher
  confirm (persistent message, topic exchange);
- ``consume``: an aio-pika consumer (prefetch 16) that upserts the tenant's row
  in ``bench_projection`` and acks.

No outbox, inbox, worker, translation or domain model: what is left is the
unavoidable cost of verify + store + broker + one row written.

Run: ``python -m bench.pipeline_baseline ingest --port N`` and
``python -m bench.pipeline_baseline consume`` (DATABASE_URL, AMQP_URL,
BENCH_EXCHANGE, BENCH_QUEUE).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aio_pika
import asyncpg
import orjson
import uvicorn
from fastapi import BackgroundTasks, FastAPI, Request, Response

SETUP = (
    "CREATE TABLE IF NOT EXISTS bench_events (event_id text PRIMARY KEY, payload jsonb);"
    "CREATE TABLE IF NOT EXISTS bench_projection "
    "(tenant_id text PRIMARY KEY, status text NOT NULL, updated_at timestamptz NOT NULL)"
)
ROUTING_KEY = "bench.subscription.updated"


async def declare(channel: aio_pika.abc.AbstractChannel) -> aio_pika.abc.AbstractExchange:
    """The exchange and the consumer's quorum queue (as the platform declares its own)."""
    exchange = await channel.declare_exchange(
        os.environ["BENCH_EXCHANGE"], aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(
        os.environ["BENCH_QUEUE"], durable=True, arguments={"x-queue-type": "quorum"}
    )
    await queue.bind(exchange, routing_key=ROUTING_KEY)
    return exchange


def ingest_app() -> FastAPI:
    secret = os.environ["STRIPE_WEBHOOK_SECRET"].encode()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            os.environ["DATABASE_URL"], min_size=2, max_size=10
        )
        await app.state.pool.execute(SETUP)
        connection = await aio_pika.connect_robust(os.environ["AMQP_URL"])
        channel = await connection.channel(publisher_confirms=True)
        app.state.exchange = await declare(channel)
        yield
        await connection.close()
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    async def publish(body: bytes) -> None:
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await app.state.exchange.publish(message, routing_key=ROUTING_KEY)

    @app.post("/api/webhooks/stripe")
    async def ingest(request: Request, background: BackgroundTasks) -> Response:
        body = await request.body()
        parts = dict(item.split("=", 1) for item in request.headers["stripe-signature"].split(","))
        expected = hmac.new(secret, parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            return Response(status_code=400)
        event = orjson.loads(body)
        await app.state.pool.execute(
            "INSERT INTO bench_events VALUES ($1, $2::text::jsonb) ON CONFLICT DO NOTHING",
            event["id"],
            body.decode(),
        )
        background.add_task(publish, body)
        return Response(b'{"received":true,"duplicate":false}', media_type="application/json")

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def consume() -> None:
    pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=2, max_size=10)
    await pool.execute(SETUP)
    connection = await aio_pika.connect_robust(os.environ["AMQP_URL"])
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=16)
    await declare(channel)
    queue = await channel.get_queue(os.environ["BENCH_QUEUE"])

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        sub = orjson.loads(message.body)["data"]["object"]
        await pool.execute(
            "INSERT INTO bench_projection VALUES ($1, $2, now()) ON CONFLICT (tenant_id) "
            "DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at",
            sub["metadata"]["tenant_id"],
            sub["status"],
        )
        await message.ack()

    await queue.consume(on_message)
    await asyncio.Future()  # until terminated


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["ingest", "consume"])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.kind == "consume":
        asyncio.run(consume())
        return
    uvicorn.run(
        ingest_app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
