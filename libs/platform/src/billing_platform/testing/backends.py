"""Finding a real Postgres and RabbitMQ for tests.

Order: ``DATABASE_URL`` / ``AMQP_URL`` (this repo's machines and CI), else
testcontainers when a Docker engine answers, else (Postgres only) the
embedded ``pgserver``. Under ``CI=true`` a backend that cannot be reached is a
failure, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg

DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


async def postgres_reachable(url: str) -> str | None:
    """None when reachable, else the reason."""
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except Exception as exc:
        return repr(exc)
    await conn.close()
    return None


async def rabbitmq_reachable(url: str) -> str | None:
    try:
        connection = await aio_pika.connect(url, timeout=5)
    except Exception as exc:
        return repr(exc)
    await connection.close()
    return None


def docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
    except Exception:
        return False
    return True


def start_postgres(stack: ExitStack) -> str:
    """A server URL from testcontainers or pgserver (only when DATABASE_URL is unset)."""
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        container: Any = stack.enter_context(PostgresContainer("postgres:16-alpine"))
        url: str = container.get_connection_url(driver=None)
        return url.replace("postgresql+psycopg2://", "postgresql://")
    import pgserver

    data_dir = Path(tempfile.mkdtemp(prefix="billing-pg-"))
    server = pgserver.get_server(str(data_dir), cleanup_mode="delete")
    stack.callback(server.cleanup)
    uri: str = server.get_uri()
    return uri


def start_rabbitmq(stack: ExitStack) -> str | None:
    if not docker_available():
        return None
    from testcontainers.rabbitmq import RabbitMqContainer

    container: Any = stack.enter_context(RabbitMqContainer("rabbitmq:3.13-alpine"))
    params = container.get_connection_params()
    return f"amqp://guest:guest@{params.host}:{params.port}/"


def unavailable(
    what: str, reason: str, fail: Callable[[str], Any], skip: Callable[[str], Any]
) -> None:
    message = f"{what} is not reachable ({reason})"
    if in_ci():
        fail(message + "; CI=true requires it")
    skip(message)


def run(coro: Any) -> Any:
    return asyncio.run(coro)
