"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive connections).

Cheaper per request than an HTTP client library, so on a 2-core machine the
server, not the generator, is what gets measured; every target in one run is
driven by the same generator, so their ratios are fair.

- ``closed_loop``: ``connections`` clients each send the next request as soon
  as the previous answered, for ``seconds``: throughput.
- ``open_loop``: requests start on a fixed schedule (``rate`` per second)
  whatever the answers do, so latency includes any queueing: p50/p99 at a load.
- ``alternating_rounds``: several targets (an endpoint and its baseline) measured
  in short rounds, the order alternating, so all of them share whatever else the
  machine is doing; each target's rounds are summed.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

RequestFactory = Callable[[], bytes]


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    server_cpu_seconds: float = 0.0

    def add(self, other: LoadResult) -> None:
        """Sum another round of the same target into this one."""
        self.latencies.extend(other.latencies)
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.elapsed += other.elapsed
        self.server_cpu_seconds += other.server_cpu_seconds

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_seconds / self.count * 1e6 if self.count else float("nan")

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    def summary(self) -> str:
        return (
            f"{self.rate:,.0f} req/s, p50 {self.percentile(50):.1f} ms, "
            f"p99 {self.percentile(99):.1f} ms, non-2xx {self.non_2xx}"
        )


def post_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get_request(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await self.reader.readexactly(length)
        if b"connection: close" in head.lower():
            self.writer.close()
            self.writer = self.reader = None
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def closed_loop(
    host: str,
    port: int,
    make: RequestFactory,
    *,
    connections: int,
    seconds: float,
    requests: int | None = None,
) -> LoadResult:
    """Back-to-back clients for ``seconds``, or until ``requests`` were sent if it is given."""
    result = LoadResult()
    deadline = time.perf_counter() + seconds
    left = [requests]

    def more() -> bool:
        if left[0] is None:
            return time.perf_counter() < deadline
        left[0] -= 1
        return left[0] >= 0

    async def client() -> None:
        conn = _Connection(host, port)
        try:
            while more():
                request = make()
                started = time.perf_counter()
                status = await conn.send(request)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    result.elapsed = time.perf_counter() - started
    return result


async def open_loop(
    host: str, port: int, make: RequestFactory, *, rate: float, seconds: float, pool: int = 64
) -> LoadResult:
    """Start ``rate`` requests per second on up to ``pool`` connections."""
    result = LoadResult()
    idle: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(pool):
        idle.put_nowait(_Connection(host, port))
    total = int(rate * seconds)
    begin = time.perf_counter()

    async def one(scheduled: float) -> None:
        conn = await idle.get()
        try:
            status = await conn.send(make())
        finally:
            idle.put_nowait(conn)
        result.latencies.append(time.perf_counter() - scheduled)
        result.statuses[status] = result.statuses.get(status, 0) + 1

    tasks = []
    for n in range(total):
        scheduled = begin + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - begin
    while not idle.empty():
        idle.get_nowait().close()
    return result


@dataclass
class Target:
    """One endpoint of an ``alternating_rounds`` comparison."""

    label: str
    port: int
    make: RequestFactory
    pid: int = 0
    """The server's process, for its CPU per request (0: not counted)."""


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux ``/proc``; 0 when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def alternating_rounds(
    targets: Sequence[Target],
    *,
    rounds: int,
    seconds: float,
    connections: int,
    rate: float,
) -> tuple[dict[str, LoadResult], dict[str, LoadResult]]:
    """Each target's closed-loop maximum and open-loop latency at ``rate``, over
    ``rounds`` slices of ``seconds / rounds`` whose order alternates."""
    maxima = {t.label: LoadResult() for t in targets}
    fixed = {t.label: LoadResult() for t in targets}
    slice_s = seconds / rounds
    for n in range(rounds):
        order = list(targets) if n % 2 == 0 else list(reversed(targets))
        for t in order:
            cpu_before = process_cpu_seconds(t.pid) if t.pid else 0.0
            got = await closed_loop(
                "127.0.0.1", t.port, t.make, connections=connections, seconds=slice_s
            )
            if t.pid:
                got.server_cpu_seconds = process_cpu_seconds(t.pid) - cpu_before
            maxima[t.label].add(got)
        for t in order:
            fixed[t.label].add(
                await open_loop("127.0.0.1", t.port, t.make, rate=rate, seconds=slice_s)
            )
    return maxima, fixed


def cycling(requests: Sequence[bytes]) -> RequestFactory:
    """A factory handing out ``requests`` in turn, round and round."""
    return itertools.cycle(requests).__next__


def counter() -> Iterator[int]:
    return itertools.count(1)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
