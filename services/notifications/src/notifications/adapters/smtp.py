"""The mail transport on SMTP (aiosmtplib): STARTTLS or implicit TLS, AUTH when the URL
carries a user. SMTP answers become the port's outcomes: 4xx, a lost or refused
connection and timeouts are ``MailDeferred`` (retried), 5xx is ``MailRejected``."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

import aiosmtplib

from notifications.config import SmtpConfig
from notifications.ports import MailDeferred, MailRejected, OutgoingMail


def to_message(mail: OutgoingMail, *, sender: str, reply_to: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = mail.subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain="billing.invalid")
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def _code_of(exc: aiosmtplib.SMTPException) -> int | None:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        return min(codes) if codes else None
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


class SmtpMailTransport:
    def __init__(self, config: SmtpConfig, *, sender: str, reply_to: str | None) -> None:
        self._config = config
        self._sender = sender
        self._reply_to = reply_to

    async def send(self, mail: OutgoingMail) -> None:
        config = self._config
        message = to_message(mail, sender=self._sender, reply_to=self._reply_to)
        try:
            await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                use_tls=config.implicit_tls,
                start_tls=config.starttls,
                timeout=config.timeout_s,
            )
        except (
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPServerDisconnected,
            aiosmtplib.SMTPTimeoutError,
            OSError,
        ) as exc:
            raise MailDeferred(f"{type(exc).__name__}: {exc}") from exc
        except aiosmtplib.SMTPException as exc:
            code = _code_of(exc)
            if code is not None and code >= 500:
                raise MailRejected(f"{code}: {exc}") from exc
            raise MailDeferred(f"{code}: {exc}") from exc


class UnconfiguredMailTransport:
    """No SMTP_URL: every mail waits (``deferred``) until one is configured."""

    async def send(self, mail: OutgoingMail) -> None:
        raise MailDeferred("SMTP_URL is not configured")
