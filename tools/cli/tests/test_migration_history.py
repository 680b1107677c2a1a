"""Alembic histories are frozen: a revision holds its own SQL and imports no live code, so
changing the platform or a service never rewrites what an old revision creates.

``frozen_schema.txt`` is the catalog (columns, constraints, indexes) an empty database
gets from each history up to ``FROZEN``, recorded when the revisions were frozen; it
must never change (a new revision adds to ``FROZEN``'s successors, not to it).
"""

from __future__ import annotations

import ast
import asyncio
import sys
from pathlib import Path

import asyncpg
import pytest
from billing_cli.services import SERVICES
from billing_platform.migrations import downgrade, upgrade
from billing_platform.testing.plugin import throwaway_database

FROZEN = {
    "checkout": "checkout_0005",
    "subscriptions": "subscriptions_0006",
    "webhooks": "webhooks_0005",
}
GOLDEN = Path(__file__).parent / "data" / "frozen_schema.txt"
ALLOWED_TOP_LEVEL = {"alembic", "sqlalchemy"}


def revision_files() -> list[Path]:
    return sorted(
        path
        for spec in SERVICES.values()
        for path in (spec.migrations.directory / "migrations" / "versions").glob("*.py")
    )


def live_imports(source: str) -> list[str]:
    """The modules a revision imports beyond the standard library, alembic and sqlalchemy."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if name.startswith(".") or (
                top not in ALLOWED_TOP_LEVEL and top not in sys.stdlib_module_names
            ):
                found.append(name)
    return found


def test_the_scan_sees_live_imports() -> None:
    source = (
        "import os\nfrom collections.abc import Sequence\nfrom alembic import op\n"
        "import sqlalchemy as sa\nfrom billing_platform.messaging import outbox_schema\n"
        "import billing_domain.plans\nimport checkout.schema\nfrom . import sibling\n"
        "def upgrade() -> None:\n    from webhooks.schema import SCHEMA\n"
    )
    assert live_imports(source) == [
        "billing_platform.messaging",
        "billing_domain.plans",
        "checkout.schema",
        ".",
        "webhooks.schema",
    ]


def test_every_revision_imports_only_alembic_sqlalchemy_and_the_standard_library() -> None:
    files = revision_files()
    assert len(files) >= sum(int(rev.rsplit("_", 1)[1]) for rev in FROZEN.values())
    offenders = {
        str(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path): names
        for path in files
        if (names := live_imports(path.read_text()))
    }
    assert offenders == {}


CATALOG = {
    "column": """
        SELECT table_schema || '.' || table_name || ' ' || ordinal_position || ' '
               || column_name || ' ' || data_type || ' nullable=' || is_nullable
               || ' default=' || coalesce(column_default, '-') AS line
        FROM information_schema.columns WHERE table_schema = ANY($1::text[])
        ORDER BY table_schema, table_name, ordinal_position""",
    "constraint": """
        SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace::regnamespace::text = ANY($1::text[])
        ORDER BY 1""",
    "index": """
        SELECT indexdef FROM pg_indexes WHERE schemaname = ANY($1::text[]) ORDER BY 1""",
}


async def catalog(database_url: str) -> str:
    connection = await asyncpg.connect(database_url)
    try:
        lines = [
            f"{kind} {row[0]}"
            for kind, query in CATALOG.items()
            for row in await connection.fetch(query, list(FROZEN))
        ]
    finally:
        await connection.close()
    return "\n".join(lines) + "\n"


def _migrate(database_url: str, *, down: bool = False) -> None:
    for name, revision in FROZEN.items():
        source = SERVICES[name].migrations
        if down:
            downgrade(source, database_url, "base")
        else:
            upgrade(source, database_url, revision)


@pytest.mark.integration
async def test_an_empty_database_gets_the_schema_recorded_when_the_history_was_frozen(
    postgres_server_url: str,
) -> None:
    async with throwaway_database(postgres_server_url, "frozen_history") as url:
        await asyncio.to_thread(_migrate, url)
        upgraded = await catalog(url)
        await asyncio.to_thread(_migrate, url, down=True)
        emptied = await catalog(url)
        await asyncio.to_thread(_migrate, url)
        again = await catalog(url)
    assert upgraded == GOLDEN.read_text()
    assert all("alembic_version" in line for line in emptied.splitlines()), emptied
    assert again == upgraded


def test_each_history_is_one_line_without_duplicate_revision_ids() -> None:
    """Two helpers landing a ``000N`` each once left two ``subscriptions_0008``: alembic
    only warns and keeps one of them, so the other's tables were silently never created."""
    for name, spec in SERVICES.items():
        revisions: dict[str, str | None] = {}
        for path in (spec.migrations.directory / "migrations" / "versions").glob("*.py"):
            values = {
                target.id: node.value.value
                for node in ast.parse(path.read_text()).body
                if isinstance(node, ast.AnnAssign | ast.Assign)
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Name)
                and target.id in ("revision", "down_revision")
                and isinstance(node.value, ast.Constant)
            }
            revision = str(values["revision"])
            assert revision not in revisions, f"{name}: {revision} twice ({path.name})"
            parent = values.get("down_revision")
            revisions[revision] = None if parent is None else str(parent)
        parents = [parent for parent in revisions.values() if parent is not None]
        assert len(parents) == len(set(parents)), f"{name}: a revision has two children"
        heads = set(revisions) - set(parents)
        assert len(heads) == 1, f"{name}: heads {sorted(heads)}"
