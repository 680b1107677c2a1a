"""Identifiers that go into SQL text, and statements built from one tuple of columns."""

from __future__ import annotations

import re

import pytest
from billing_platform.sql_names import (
    column_list,
    excluded_assignments,
    identifier,
    in_column_order,
    insert_sql,
    placeholders,
    schema_name,
    table_name,
)

COLUMNS = ("tenant_id", "plan", "status")


@pytest.mark.parametrize(
    "hostile",
    ["", "Plan", "plan; DROP TABLE x", 'plan"', "plan--", "1plan", "a" * 64, "plan name", "é"],
)
def test_anything_but_a_plain_lower_case_identifier_is_refused(hostile: str) -> None:
    with pytest.raises(ValueError, match="invalid SQL identifier"):
        identifier(hostile)
    with pytest.raises(ValueError, match="invalid SQL identifier"):
        schema_name(hostile)
    with pytest.raises(ValueError, match="invalid SQL identifier"):
        column_list(["tenant_id", hostile])


def test_statements_come_from_one_tuple_of_columns() -> None:
    table = table_name("subscriptions", "billing_accounts")
    assert table == "subscriptions.billing_accounts"
    assert insert_sql(table, COLUMNS) == (
        "INSERT INTO subscriptions.billing_accounts (tenant_id, plan, status) VALUES ($1, $2, $3)"
    )
    assert excluded_assignments(COLUMNS[1:]) == "plan = EXCLUDED.plan, status = EXCLUDED.status"
    assert placeholders(2, start=4) == "$4, $5"
    with pytest.raises(ValueError, match="invalid SQL identifier"):
        insert_sql("subscriptions.x (a) VALUES (1); --", COLUMNS)
    assert insert_sql(table, COLUMNS, casts={"status": "text::jsonb"}).endswith(
        "VALUES ($1, $2, $3::text::jsonb)"
    )
    for casts in ({"note": "text"}, {"plan": "text); DROP TABLE x; --"}, {"plan": ""}):
        with pytest.raises(ValueError, match="invalid casts"):
            insert_sql(table, COLUMNS, casts=casts)


def test_values_follow_the_columns_and_must_match_them_exactly() -> None:
    values = {"status": "active", "tenant_id": "t1", "plan": "team"}
    assert in_column_order(values, COLUMNS) == ("t1", "team", "active")
    with pytest.raises(ValueError, match=re.escape("missing {'status'}")):
        in_column_order({"tenant_id": "t1", "plan": "team"}, COLUMNS)
    with pytest.raises(ValueError, match=re.escape("extra {'note'}")):
        in_column_order({**values, "note": "x"}, COLUMNS)
