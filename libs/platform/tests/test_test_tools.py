"""The test-tool list: a missing program skips in one line locally and fails under CI."""

from __future__ import annotations

import pytest
from billing_platform.testing import tools
from billing_platform.testing.tools import TOOLS, Tool, require_tool

pytestmark = pytest.mark.unit

ABSENT = Tool(name="no-such-program-4c1d", package="no-such-package", needed_for="this test")


@pytest.fixture
def absent_tool(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(TOOLS, ABSENT.name, ABSENT)
    return ABSENT.name


def test_a_missing_program_skips_with_one_line_naming_the_package(
    absent_tool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_tool(absent_tool)
    message = str(skipped.value)
    assert "\n" not in message
    assert "apt-get install no-such-package" in message


def test_under_ci_a_missing_program_fails_instead(
    absent_tool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true requires it"):
        require_tool(absent_tool)


def test_the_check_command_exits_non_zero_under_ci_when_one_is_missing(
    absent_tool: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CI", "true")
    assert tools.main([]) == 1
    assert f"{absent_tool} is not installed" in capsys.readouterr().out
    monkeypatch.delenv("CI")
    assert tools.main([]) == 0


def test_a_present_program_is_found_by_its_path() -> None:
    sh = Tool(name="sh", package="dash", needed_for="this test")
    assert sh.path() is not None
