"""subscriptions schema: when a tenant's payment failure began.

Revision ID: subscriptions_0003
Revises: subscriptions_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0003"
down_revision: str | None = "subscriptions_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: failures recorded before this column stay without a start time.
    op.execute("ALTER TABLE subscriptions.billing_accounts ADD COLUMN failed_since timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE subscriptions.billing_accounts DROP COLUMN failed_since")
