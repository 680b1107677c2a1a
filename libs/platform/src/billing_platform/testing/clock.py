"""The one fake of the ``Clock`` port: time stands still until a test moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class FakeClock:
    """``now()`` answers ``current``; ``advance`` moves it (seconds or a ``timedelta``).

    The start is kept as given (a test may hand a naive or non-UTC time on purpose).
    """

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, by: float | timedelta) -> datetime:
        self.current += by if isinstance(by, timedelta) else timedelta(seconds=by)
        return self.current
