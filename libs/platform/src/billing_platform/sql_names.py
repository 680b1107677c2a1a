"""Schema names end up inside SQL text: accept only plain lower-case identifiers."""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def schema_name(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid schema name {name!r}")
    return name
