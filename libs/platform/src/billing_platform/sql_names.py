"""Names that end up inside SQL text, and statements built from one tuple of columns.

Only plain lower-case identifiers are accepted (``[a-z_][a-z0-9_]*``, at most 63
characters): they need no quoting, so a name can never close a quote or start a
clause. Values always travel as ``$n`` parameters. Statements written as f-strings
over these names are marked ``# noqa: S608`` with that reason, line by line.

A table's columns are written once, as a tuple; the column list, the placeholders,
the ``ON CONFLICT ... DO UPDATE SET`` list and the order of the values come from it,
so a column can no longer shift to the wrong ``$n``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_CASTS = re.compile(r"^[a-z_][a-z0-9_]{0,62}(::[a-z_][a-z0-9_]{0,62})*$")


def identifier(name: str) -> str:
    """``name`` when it is a plain lower-case identifier; ``ValueError`` otherwise."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid SQL identifier {name!r}")
    return name


def schema_name(name: str) -> str:
    return identifier(name)


def table_name(schema: str, table: str) -> str:
    """``schema.table``, both checked."""
    return f"{schema_name(schema)}.{identifier(table)}"


def column_list(columns: Sequence[str]) -> str:
    """``a, b, c``."""
    return ", ".join(identifier(column) for column in columns)


def placeholders(count: int, *, start: int = 1) -> str:
    """``$1, $2, ...``: ``count`` of them from ``$start``."""
    return ", ".join(f"${n}" for n in range(start, start + count))


def insert_sql(
    table: str, columns: Sequence[str], *, casts: Mapping[str, str] | None = None
) -> str:
    """``INSERT INTO schema.table (columns) VALUES ($1, ...)``, one placeholder per column;
    ``casts`` maps a column to what its placeholder is cast to (``{"payload": "text::jsonb"}``
    gives ``$n::text::jsonb``)."""
    schema, _, name = table.partition(".")
    casts = casts or {}
    if not set(casts) <= set(columns) or not all(map(_CASTS.match, casts.values())):
        raise ValueError(f"invalid casts {casts!r} for the columns {columns!r}")
    values = ", ".join(
        f"${n}::{casts[column]}" if column in casts else f"${n}"
        for n, column in enumerate(columns, start=1)
    )
    return (
        f"INSERT INTO {table_name(schema, name)} ({column_list(columns)}) "  # noqa: S608 (identifiers checked here)
        f"VALUES ({values})"
    )


def excluded_assignments(columns: Sequence[str]) -> str:
    """``a = EXCLUDED.a, ...``: the ``DO UPDATE SET`` list of an upsert."""
    return ", ".join(f"{name} = EXCLUDED.{name}" for name in map(identifier, columns))


def in_column_order(values: Mapping[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    """The values for ``columns``, in their order; a missing or extra key is an error."""
    if set(values) != set(columns) or len(values) != len(columns):
        missing, extra = set(columns) - set(values), set(values) - set(columns)
        raise ValueError(f"values do not match the columns: missing {missing}, extra {extra}")
    return tuple(values[column] for column in columns)
