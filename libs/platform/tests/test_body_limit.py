"""A service reached directly (no gateway in front) caps the body and its read time.

Issue 15 item 10: a service read a 60 MB body sent straight to its port. Each test
runs a platform app under a real uvicorn on a real socket and talks raw HTTP/1.1, so
chunked uploads and stalled senders are what the server actually sees.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from billing_platform.http.app import create_app
from billing_platform.settings import BillingSettings
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


class Plan(BaseModel):
    plan: str


def _app(*, read_timeout_s: float = 10.0) -> FastAPI:
    router = APIRouter()
    seen: dict[str, int] = {"bytes": 0}

    @router.post("/json")
    async def take_json(payload: Plan) -> dict[str, str]:
        return {"plan": payload.plan}

    @router.post("/raw")
    async def take_raw(request: Request) -> dict[str, int]:
        async for chunk in request.stream():
            seen["bytes"] += len(chunk)
        return {"bytes": seen["bytes"]}

    app = create_app(
        service="limits",
        settings=BillingSettings(jwt_secret="s" * 32),
        routers=[router],
        body_read_timeout_s=read_timeout_s,
    )
    app.state.seen = seen
    return app


def _serve(app: FastAPI) -> Iterator[tuple[int, FastAPI]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1], app
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def served() -> Iterator[tuple[int, FastAPI]]:
    yield from _serve(_app())


@pytest.fixture
def impatient() -> Iterator[tuple[int, FastAPI]]:
    yield from _serve(_app(read_timeout_s=0.5))


def _answer(conn: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    conn.settimeout(10)
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(
        next(
            h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")
        )
    )
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(head.split(b" ")[1]), json.loads(rest[:length])


def test_a_declared_60_mb_body_is_a_413_before_anything_is_read(
    served: tuple[int, FastAPI],
) -> None:
    port, _ = served
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(
            b"POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {60 * MIB}\r\n\r\n".encode()
        )
        status, body = _answer(conn)
    assert status == 413
    assert body == {
        "error": {"code": "payload_too_large", "message": f"the body is over {MIB} bytes"}
    }


def test_a_chunked_60_mb_body_is_cut_at_the_cap(served: tuple[int, FastAPI]) -> None:
    port, app = served
    chunk = b"x" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            while sent < 60 * MIB:
                conn.sendall(framed)
                sent += len(chunk)
        except OSError:
            pass  # the server stopped reading and closed: what should happen
        status, body = _answer(conn)
    assert status == 413, body
    assert body["error"]["code"] == "payload_too_large"  # type: ignore[index]
    assert app.state.seen["bytes"] <= MIB  # the route never saw more than the cap
    assert sent < 60 * MIB


def test_a_body_that_stalls_is_a_408_at_the_deadline(impatient: tuple[int, FastAPI]) -> None:
    port, _ = impatient
    with socket.create_connection(("127.0.0.1", port)) as conn:
        started = time.monotonic()
        conn.sendall(
            b"POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"plan": '
        )
        status, body = _answer(conn)  # and never the rest
        waited = time.monotonic() - started
    assert status == 408
    assert body["error"]["code"] == "request_timeout"  # type: ignore[index]
    assert 0.4 < waited < 5


def test_a_small_body_in_time_is_served(served: tuple[int, FastAPI]) -> None:
    port, _ = served
    payload = b'{"plan": "team"}'
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(
            b"POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        status, body = _answer(conn)
    assert (status, body) == (200, {"plan": "team"})
