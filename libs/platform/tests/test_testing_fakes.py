"""The fake unit of work base and the fake clock every service's tests share."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from billing_platform.testing.clock import FakeClock
from billing_platform.testing.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit


class Ledger(FakeUnitOfWork[list[str]]):
    """The smallest fake: a shared list of committed lines."""

    def __init__(self, committed_lines: list[str]) -> None:
        self.lines = committed_lines
        super().__init__()

    def _new_stage(self) -> list[str]:
        return []

    def _apply(self, staged: list[str]) -> None:
        self.lines.extend(staged)

    def write(self, line: str) -> None:
        self.staged.append(line)


async def test_commit_applies_the_staged_writes_and_runs_after_commit() -> None:
    lines: list[str] = []
    woken: list[str] = []
    async with Ledger(lines) as uow:
        uow.write("a")
        uow.after_commit(lambda: woken.append("relay"))
        assert lines == []  # staged, not visible yet
        await uow.commit()
    assert lines == ["a"]
    assert woken == ["relay"]
    assert uow.committed
    assert uow.commits == 1


async def test_leaving_without_commit_discards_writes_and_callbacks() -> None:
    lines: list[str] = []
    woken: list[str] = []
    async with Ledger(lines) as uow:
        uow.write("lost")
        uow.after_commit(lambda: woken.append("relay"))
    assert (lines, woken, uow.committed) == ([], [], False)


async def test_an_exception_in_the_block_rolls_back() -> None:
    lines: list[str] = []

    async def fail_inside() -> None:
        async with Ledger(lines) as uow:
            uow.write("lost")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_inside()
    assert lines == []


async def test_rollback_discards_only_what_is_not_committed() -> None:
    lines: list[str] = []
    async with Ledger(lines) as uow:
        uow.write("kept")
        await uow.commit()
        uow.write("discarded")
        await uow.rollback()
        await uow.commit()
    assert lines == ["kept"]


async def test_held_locks_are_released_when_the_block_ends() -> None:
    lock = asyncio.Lock()

    async def fail_holding() -> None:
        async with Ledger([]) as uow:
            await uow.hold(lock)
            assert lock.locked()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_holding()
    assert not lock.locked()


def test_the_fake_clock_stands_still_until_advanced() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = FakeClock(start)
    assert clock.now() == clock.now() == start
    assert clock.advance(90) == start + timedelta(seconds=90)
    assert clock.advance(timedelta(days=1)) == start + timedelta(days=1, seconds=90)
    assert clock.now() == start + timedelta(days=1, seconds=90)
