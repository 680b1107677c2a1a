"""Run the sandbox: ``serve(config)`` blocks; ``running(config)`` serves in-process."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import uvicorn

from stripe_sandbox.app import create_app
from stripe_sandbox.config import SandboxConfig


def serve(config: SandboxConfig) -> None:
    """Serve on ``config.host:config.port`` until interrupted (``billing serve sandbox``)."""
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="info")


@dataclass(frozen=True)
class RunningSandbox:
    config: SandboxConfig
    url: str  # e.g. http://127.0.0.1:54321, what STRIPE_API_BASE should be


def _bind(config: SandboxConfig) -> tuple[socket.socket, SandboxConfig]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    public = config.public_url if config.public_url and config.port != 0 else None
    return sock, dataclasses.replace(config, port=port, public_url=public)


def _server(config: SandboxConfig) -> uvicorn.Server:
    app = create_app(config)
    return uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=5
        )
    )


@contextlib.asynccontextmanager
async def running(config: SandboxConfig) -> AsyncIterator[RunningSandbox]:
    """Serve on the running event loop; ``port=0`` picks a free port."""
    sock, bound = _bind(config)
    server = _server(bound)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield RunningSandbox(bound, bound.base_url)
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.contextmanager
def running_in_thread(config: SandboxConfig) -> Iterator[RunningSandbox]:
    """Serve from a background thread with its own event loop (for synchronous callers)."""
    sock, bound = _bind(config)
    server = _server(bound)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the Stripe sandbox failed to start")
            threading.Event().wait(0.01)
        yield RunningSandbox(bound, bound.base_url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
