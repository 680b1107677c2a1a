"""A TCP proxy that tests can cut and restore: a real network fault, locally.

Put it between a client and Postgres or RabbitMQ, then ``cut()`` (drop every
connection and refuse new ones) and ``restore()``; the server itself is never
touched, so other tests on the machine are not disturbed. ``proxy_database``
puts one in front of a Postgres URL, TCP or Unix socket (``?host=/dir``, as
pgserver gives when ``DATABASE_URL`` is unset).
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class TcpProxy:
    def __init__(
        self, target_host: str, target_port: int, *, unix_socket: str | None = None
    ) -> None:
        self._target = (target_host, target_port)
        self._unix_socket = unix_socket
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port or self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start(self.port)

    async def close(self) -> None:
        await self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self._unix_socket is not None:
                up_reader, up_writer = await asyncio.open_unix_connection(self._unix_socket)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        self._writers.update({writer, up_writer})
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(dst)
            with contextlib.suppress(Exception):
                dst.close()


async def proxy_database(database_url: str) -> tuple[TcpProxy, str]:
    """A started proxy in front of ``database_url``'s server, and the URL through it."""
    parts = urlsplit(database_url)
    query = dict(parse_qsl(parts.query))
    socket_dir = query.pop("host", None)
    port = parts.port or int(query.pop("port", 5432))
    if socket_dir is not None and socket_dir.startswith("/"):
        proxy = TcpProxy("", 0, unix_socket=f"{socket_dir}/.s.PGSQL.{port}")
    else:
        proxy = TcpProxy(parts.hostname or "127.0.0.1", port)
    local = await proxy.start()
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{local}" if userinfo else f"127.0.0.1:{local}"
    url = urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))
    return proxy, url
