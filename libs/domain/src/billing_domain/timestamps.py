"""Timestamps: aware UTC everywhere, RFC 3339 on the wire, Unix seconds from Stripe."""

from __future__ import annotations

from datetime import UTC, datetime

from billing_domain.errors import RuleViolated


def ensure_utc(value: datetime, *, name: str = "timestamp") -> datetime:
    """Return ``value`` in UTC; a naive datetime raises ``RuleViolated``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise RuleViolated(f"{name} must be timezone-aware", code="naive_datetime")
    return value.astimezone(UTC)


def to_rfc3339(value: datetime) -> str:
    """``2026-01-31T12:00:00Z`` (microseconds kept when present)."""
    if value.tzinfo is not UTC:  # asyncpg's and our clock's are UTC already: no conversion
        value = ensure_utc(value)
    return value.isoformat().replace("+00:00", "Z")


def parse_rfc3339(value: str, *, name: str = "timestamp") -> datetime:
    """Parse an RFC 3339 string with an offset (``Z`` or ``+hh:mm``) into UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise RuleViolated(
            f"{name} is not an RFC 3339 timestamp: {value!r}", code="bad_timestamp"
        ) from None
    if parsed.tzinfo is None:
        raise RuleViolated(f"{name} has no UTC offset: {value!r}", code="bad_timestamp")
    return parsed.astimezone(UTC)


def from_unix(seconds: int) -> datetime:
    """Stripe's ``created`` / ``current_period_end`` (Unix seconds) as aware UTC."""
    return datetime.fromtimestamp(seconds, tz=UTC)


def from_unix_or_none(seconds: int | None) -> datetime | None:
    return None if seconds is None else from_unix(seconds)
