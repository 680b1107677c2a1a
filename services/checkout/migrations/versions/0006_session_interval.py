"""checkout schema: the billing interval each checkout session sells (month or year), so a
double click on "yearly" never gets the monthly session back. Earlier rows were monthly.
Literal SQL: this revision must not change when live code does.

Revision ID: checkout_0006
Revises: checkout_0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "checkout_0006"
down_revision: str | None = "checkout_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE checkout.checkout_sessions "
        "ADD COLUMN billing_interval text NOT NULL DEFAULT 'month' "
        "CONSTRAINT checkout_sessions_interval_known CHECK (billing_interval IN ('month', 'year'))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE checkout.checkout_sessions DROP COLUMN billing_interval")
