"""Event payload details."""

from __future__ import annotations

import pytest
from stripe_sandbox.events import diff

pytestmark = pytest.mark.unit


def test_previous_attributes_keep_only_what_changed() -> None:
    before = {"id": "x", "status": "active", "settings": {"a": 1, "b": 2}, "metadata": {"k": "v"}}
    after = {"id": "x", "status": "past_due", "settings": {"a": 1, "b": 3}, "metadata": {}}
    assert diff(before, after) == {
        "status": "active",
        "settings": {"b": 2},
        "metadata": {"k": "v"},
    }
