"""checkout schema: each tenant's Stripe budget (billing_platform.stripe_budget).

Revision ID: checkout_0004
Revises: checkout_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op
from billing_platform.stripe_budget import create_budget_table_sql, drop_budget_table_sql

revision: str = "checkout_0004"
down_revision: str | None = "checkout_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in create_budget_table_sql("checkout"):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_budget_table_sql("checkout"):
        op.execute(statement)
