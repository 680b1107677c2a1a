from datetime import UTC, datetime, timedelta, timezone

import pytest

from billing_domain.errors import RuleViolated
from billing_domain.timestamps import (
    ensure_utc,
    from_unix,
    from_unix_or_none,
    parse_rfc3339,
    to_rfc3339,
)

pytestmark = pytest.mark.unit


def test_rfc3339_uses_z_and_parses_back() -> None:
    moment = datetime(2026, 1, 31, 12, 0, 0, 250, tzinfo=UTC)
    assert to_rfc3339(moment) == "2026-01-31T12:00:00.000250Z"
    assert parse_rfc3339(to_rfc3339(moment)) == moment


def test_offsets_are_converted_to_utc() -> None:
    parsed = parse_rfc3339("2026-01-31T14:00:00+02:00")
    assert parsed.utcoffset() == timedelta(0)
    assert parsed == datetime(2026, 1, 31, 12, tzinfo=UTC)
    plus_two = datetime(2026, 1, 31, 14, tzinfo=timezone(timedelta(hours=2)))
    assert to_rfc3339(plus_two) == "2026-01-31T12:00:00Z"


@pytest.mark.parametrize("raw", ["2026-01-31T12:00:00", "yesterday", ""])
def test_parse_rejects_naive_or_garbage(raw: str) -> None:
    with pytest.raises(RuleViolated):
        parse_rfc3339(raw)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(RuleViolated) as caught:
        ensure_utc(datetime(2026, 1, 1), name="now")
    assert caught.value.code == "naive_datetime"


def test_from_unix() -> None:
    assert from_unix(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert from_unix_or_none(None) is None
