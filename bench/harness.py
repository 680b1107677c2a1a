"""Starting servers for a benchmark and a throwaway database for it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx


@contextlib.contextmanager
def background(
    command: list[str], env: dict[str, str], *, stderr: int | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A process for the length of a benchmark: terminated (then killed) when it ends."""
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=stderr
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def server(
    command: list[str], port: int, env: dict[str, str], ready_path: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``background``, once ``ready_path`` answers below 500."""
    with background(command, env, stderr=subprocess.PIPE) as process:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{command} exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code < 500:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{command} did not start")
        yield process


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def billing(*args: str) -> list[str]:
    return [os.path.join(os.path.dirname(sys.executable), "billing"), *args]


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    base = os.environ.get("DATABASE_URL")
    if not base:
        raise SystemExit("set DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    name = f"billing_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield urlunsplit(urlsplit(base)._replace(path="/" + name))
    finally:
        admin = await asyncpg.connect(base)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


async def settle(seconds: float) -> None:
    await asyncio.sleep(seconds)
