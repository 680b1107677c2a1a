"""Baseline servers measured beside the real services, in the same run.

- ``bare``: a FastAPI endpoint that answers at once (the framework's ceiling).
- ``ingest``: the practical ceiling of webhook ingest: HMAC check of the
  ``Stripe-Signature`` and one asyncpg ``INSERT ... ON CONFLICT DO NOTHING``.
- ``read``: the practical ceiling of a subscription read: one asyncpg
  primary-key select.

Run: ``python -m bench.baselines bare|ingest|read --port N`` (DATABASE_URL for
the last two).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
import orjson
import uvicorn
from fastapi import FastAPI, Request, Response

SECRET = os.environ.get("BENCH_WEBHOOK_SECRET", "whsec_bench")


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/api/webhooks/stripe")
    @app.get("/api/billing/subscription")
    async def answer() -> dict[str, bool]:
        return {"received": True}

    return app


def _pool_lifespan(database_url: str, setup: str):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(database_url, min_size=2, max_size=10)
        await app.state.pool.execute(setup)
        yield
        await app.state.pool.close()

    return lifespan


def ingest_app(database_url: str) -> FastAPI:
    app = FastAPI(
        lifespan=_pool_lifespan(
            database_url,
            "CREATE TABLE IF NOT EXISTS bench_events (event_id text PRIMARY KEY, payload jsonb)",
        )
    )

    @app.post("/api/webhooks/stripe")
    async def ingest(request: Request) -> Response:
        body = await request.body()
        header = request.headers.get("stripe-signature", "")
        parts = dict(item.split("=", 1) for item in header.split(","))
        expected = hmac.new(
            SECRET.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            return Response(status_code=400)
        event = orjson.loads(body)
        await request.app.state.pool.execute(
            "INSERT INTO bench_events VALUES ($1, $2::text::jsonb) ON CONFLICT DO NOTHING",
            event["id"],
            body.decode(),
        )
        return Response(b'{"received":true,"duplicate":false}', media_type="application/json")

    return app


def read_app(database_url: str) -> FastAPI:
    app = FastAPI(lifespan=_pool_lifespan(database_url, "SELECT 1"))

    @app.get("/api/billing/subscription")
    async def read(request: Request) -> dict[str, object]:
        tenant = request.headers.get("x-tenant", "tenant_1")
        row = await request.app.state.pool.fetchrow(
            "SELECT tenant_id, plan, status FROM subscriptions.billing_accounts "
            "WHERE tenant_id = $1",
            tenant,
        )
        return dict(row) if row else {}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["bare", "ingest", "read"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    apps: dict[str, Callable[[], FastAPI]] = {
        "bare": bare_app,
        "ingest": lambda: ingest_app(database_url),
        "read": lambda: read_app(database_url),
    }
    app = apps[args.kind]()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
