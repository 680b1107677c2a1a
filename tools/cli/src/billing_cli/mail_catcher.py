"""An SMTP server that keeps what it receives: ``billing dev``'s mail catcher (captured
mail at ``/dev/mail`` and ``GET /dev/mail/messages``) and the tests' real SMTP server.

aiosmtpd's protocol served on the running event loop. ``refuse`` answers a recipient
with a code (``550`` for good, ``451`` for now); nothing is ever delivered anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

KIND_HEADER = "X-Billing-Notification"
MAX_KEPT = 500


@dataclass(frozen=True, kw_only=True)
class CapturedMail:
    to: str
    subject: str
    kind: str | None
    text: str
    html: str
    sent_at: str
    headers: dict[str, str]

    def public(self) -> dict[str, Any]:
        """The ``/dev/mail/messages`` shape: to, subject, kind, text, html, sent_at."""
        body = asdict(self)
        body.pop("headers")
        return body


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return "" if part is None else str(part.get_content())


class MailCatcher:
    def __init__(self) -> None:
        self.messages: list[CapturedMail] = []
        self.refuse: dict[str, tuple[int, str]] = {}
        self.arrived = asyncio.Event()
        self.port = 0
        self._server: asyncio.Server | None = None

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refused = self.refuse.get(address.lower())
        if refused is not None:
            return f"{refused[0]} {refused[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        for to in envelope.rcpt_tos:
            self.messages.append(
                CapturedMail(
                    to=to,
                    subject=str(message.get("Subject", "")),
                    kind=message.get(KIND_HEADER),
                    text=_part(message, "plain").replace("\r\n", "\n"),
                    html=_part(message, "html").replace("\r\n", "\n"),
                    sent_at=datetime.now(UTC).isoformat(),
                    headers={k: str(v) for k, v in message.items()},
                )
            )
        del self.messages[:-MAX_KEPT]
        self.arrived.set()
        return "250 Message accepted"

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
    ) -> int:
        """Serve on ``host:port``, or on ``sock`` (a socket bound before the loop ran)."""
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(self, decode_data=False, hostname="billing-dev-mail")

        if sock is not None:
            self._server = await loop.create_server(protocol, sock=sock)
        else:
            self._server = await loop.create_server(protocol, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def running_mail_catcher(
    host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[MailCatcher]:
    catcher = MailCatcher()
    await catcher.start(host, port)
    try:
        yield catcher
    finally:
        await catcher.close()
