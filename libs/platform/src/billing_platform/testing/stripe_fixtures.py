"""Stripe's official object fixtures for tests.

The file lives in this package (``data/stripe/fixtures3.json``, MIT, with its
licence and provenance beside it); ``STRIPE_FIXTURES`` points elsewhere when set
(a newer copy, say). Every call returns a deep copy, so tests can edit what they get.
"""

from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

FILE_NAME = "fixtures3.json"


def fixtures_path() -> Path:
    configured = os.environ.get("STRIPE_FIXTURES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent / "data" / "stripe" / FILE_NAME


@lru_cache(maxsize=1)
def _resources() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(fixtures_path().read_text())["resources"]
    return loaded


def stripe_fixture(object_name: str) -> dict[str, Any]:
    """A fresh copy of the fixture of one Stripe object type (``"subscription"`` ...)."""
    return copy.deepcopy(_resources()[object_name])


def fixture_names() -> list[str]:
    return sorted(_resources())
