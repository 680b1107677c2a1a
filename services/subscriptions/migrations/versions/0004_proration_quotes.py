"""subscriptions schema: the proration dates previews issued (a plan change must send one back).

Revision ID: subscriptions_0004
Revises: subscriptions_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0004"
down_revision: str | None = "subscriptions_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE subscriptions.proration_quotes (
            tenant_id       text NOT NULL,
            plan            text NOT NULL,
            proration_date  timestamptz NOT NULL,
            expires_at      timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, plan, proration_date)
        )"""
    )
    op.execute(
        "CREATE INDEX proration_quotes_expires_at_idx "
        "ON subscriptions.proration_quotes (expires_at)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS subscriptions.proration_quotes")
