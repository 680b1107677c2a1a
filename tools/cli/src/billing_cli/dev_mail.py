"""``billing dev``'s mail catcher: SMTP on a loopback port (``SMTP_URL`` of the
notifications service when the environment sets none), captured mail at ``/dev/mail``
(a page) and ``GET /dev/mail/messages`` (JSON: to, subject, kind, text, html, sent_at).
Nothing is delivered anywhere."""

from __future__ import annotations

import html
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from billing_platform.settings import BillingSettings
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from billing_cli.mail_catcher import MailCatcher

PREFIX = "/dev/mail"
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; "
    "frame-ancestors 'self'; base-uri 'none'"
)
MAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(16)
    sock.setblocking(False)
    return sock


def with_mail_catcher(settings: BillingSettings) -> tuple[BillingSettings, FastAPI | None]:
    """The settings with ``SMTP_URL`` pointing at an embedded catcher (and its app), or
    unchanged when the environment names an SMTP server."""
    if settings.smtp_url:
        return settings, None
    sock = reserve_port()
    port = sock.getsockname()[1]
    catcher = MailCatcher()
    return settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{port}"}), mail_app(
        catcher, sock
    )


def _page(catcher: MailCatcher) -> str:
    rows = []
    for index, mail in reversed(list(enumerate(catcher.messages))):
        rows.append(
            "<article style='border:1px solid #ccc;border-radius:6px;margin:1rem 0;padding:1rem'>"
            f"<h2 style='margin:0;font-size:1.1rem'>{html.escape(mail.subject)}</h2>"
            f"<p style='margin:.25rem 0;color:#555'>to {html.escape(mail.to)} · "
            f"{html.escape(mail.kind or 'mail')} · {html.escape(mail.sent_at)}</p>"
            f"<iframe title='{html.escape(mail.subject)}' src='{PREFIX}/messages/{index}/html' "
            "style='width:100%;height:420px;border:0' sandbox></iframe>"
            f"<details><summary>Plain text</summary><pre>{html.escape(mail.text)}</pre></details>"
            "</article>"
        )
    body = "".join(rows) or "<p>No mail yet.</p>"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Captured mail · billing dev</title></head>"
        "<body style='font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem'>"
        f"<h1>Captured mail ({len(catcher.messages)})</h1>"
        f"<p>JSON: <a href='{PREFIX}/messages'>{PREFIX}/messages</a></p>{body}</body></html>"
    )


def mail_app(catcher: MailCatcher, sock: socket.socket) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await catcher.start(sock=sock)
        try:
            yield
        finally:
            await catcher.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.mail_catcher = catcher
    app.state.service = "mail"  # the gateway's readiness lists it: serving = ready

    async def serving() -> None:
        if catcher.port == 0:
            raise ConnectionError("the mail catcher is not serving")

    app.state.readiness_checks = {"smtp": serving}

    @app.get(PREFIX)
    async def page(request: Request) -> Response:
        return HTMLResponse(_page(catcher), headers={"Content-Security-Policy": PAGE_CSP})

    @app.get(f"{PREFIX}/messages")
    async def messages(request: Request) -> Response:
        return JSONResponse([mail.public() for mail in catcher.messages])

    @app.get(PREFIX + "/messages/{index}/html")
    async def message_html(index: int) -> Response:
        if not 0 <= index < len(catcher.messages):
            body = {"error": {"code": "not_found", "message": "no such message"}}
            return JSONResponse(body, status_code=404)
        return HTMLResponse(
            catcher.messages[index].html, headers={"Content-Security-Policy": MAIL_CSP}
        )

    return app
