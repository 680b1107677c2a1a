"""The notifications service's configuration, read once from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from billing_platform.settings import BillingSettings, SettingsError


@dataclass(frozen=True, kw_only=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    implicit_tls: bool = False
    timeout_s: float = 10.0

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """``smtp://user:pass@host:587?starttls=true`` (``smtps://`` is implicit TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SettingsError("SMTP_URL must look like smtp://user:pass@host:587")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
            implicit_tls=implicit,
            timeout_s=float(query.get("timeout", ["10"])[0]),
        )


@dataclass(frozen=True, kw_only=True)
class NotificationsConfig:
    app_base_url: str
    mail_from: str
    mail_reply_to: str | None
    renewal_intervals: frozenset[str]
    unsubscribe_secret: bytes
    smtp: SmtpConfig | None
    retry_horizon_s: float = 24 * 3600.0
    """How long a transient SMTP failure is retried before the mail is ``failed``."""
    max_backoff_s: float = 300.0
    lease_s: float = 120.0
    """How long a claimed send is held by one sender before another may take it."""
    unsubscribe_ttl_s: float = 60 * 24 * 3600.0

    @classmethod
    def from_settings(cls, settings: BillingSettings) -> NotificationsConfig:
        secret = settings.notifications_unsubscribe_secret or settings.jwt_secret
        if not secret:
            raise SettingsError(
                "NOTIFICATIONS_UNSUBSCRIBE_SECRET (or JWT_SECRET) is needed to sign "
                "unsubscribe links"
            )
        return cls(
            app_base_url=settings.app_base_url.rstrip("/"),
            mail_from=settings.mail_from,
            mail_reply_to=settings.mail_reply_to,
            renewal_intervals=frozenset(settings.renewal_reminder_intervals),
            unsubscribe_secret=secret.encode(),
            smtp=SmtpConfig.from_url(settings.smtp_url) if settings.smtp_url else None,
        )
