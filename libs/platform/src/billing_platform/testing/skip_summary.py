"""The end of every run says what it did not test, so a green partial run is never
mistaken for a full one: skipped tests grouped by reason, and deselected ones."""

from __future__ import annotations

from collections import Counter

import pytest


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def write(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if r.when != "teardown"]
    deselected = len(terminalreporter.stats.get("deselected", []))
    reasons = Counter(_reason(report) for report in skipped)
    terminalreporter.section("what this run did not test")
    if not reasons and not deselected:
        terminalreporter.write_line("nothing: every collected test ran")
        return
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"skipped {count}: {reason}")
    if deselected:
        terminalreporter.write_line(f"deselected {deselected} (a lane, not the whole suite)")
