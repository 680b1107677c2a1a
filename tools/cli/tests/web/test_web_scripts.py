"""The pages' pure script modules under node's own test runner (``node --test``): the
presentation model of a subscription's state (``web/js/subscription-state.js``) over
every status x cancel-scheduled x pending-change x payment-failed x has-card
combination. The tests themselves are ``js/*.test.mjs`` beside this file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from billing_platform.testing.tools import require_tool

pytestmark = pytest.mark.unit

SCRIPTS = Path(__file__).parent / "js"


@pytest.mark.parametrize("script", sorted(p.name for p in SCRIPTS.glob("*.test.mjs")))
def test_script(script: str) -> None:
    node = require_tool("node")
    run = subprocess.run(
        [node, "--test", str(SCRIPTS / script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
