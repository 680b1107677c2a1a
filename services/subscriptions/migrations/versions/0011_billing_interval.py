"""subscriptions schema: the billing interval of each tenant's price (month or year) and
of its pending change; proration quotes are issued per plan AND interval.

Rows from before yearly prices were all monthly: the default says so.
Literal SQL: this revision must not change when live code does.

Revision ID: subscriptions_0011
Revises: subscriptions_0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0011"
down_revision: str | None = "subscriptions_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE subscriptions.billing_accounts "
        "ADD COLUMN billing_interval text NOT NULL DEFAULT 'month' "
        "CONSTRAINT billing_accounts_interval_known CHECK (billing_interval IN ('month', 'year')), "
        "ADD COLUMN pending_interval text "
        "CONSTRAINT billing_accounts_pending_interval_known "
        "CHECK (pending_interval IN ('month', 'year'))"
    )
    op.execute(
        "ALTER TABLE subscriptions.proration_quotes "
        "ADD COLUMN billing_interval text NOT NULL DEFAULT 'month'"
    )
    op.execute(
        "ALTER TABLE subscriptions.proration_quotes DROP CONSTRAINT proration_quotes_pkey, "
        "ADD PRIMARY KEY (tenant_id, plan, billing_interval, proration_date)"
    )


def downgrade() -> None:
    op.execute("DELETE FROM subscriptions.proration_quotes WHERE billing_interval <> 'month'")
    op.execute(
        "ALTER TABLE subscriptions.proration_quotes DROP CONSTRAINT proration_quotes_pkey, "
        "ADD PRIMARY KEY (tenant_id, plan, proration_date)"
    )
    op.execute("ALTER TABLE subscriptions.proration_quotes DROP COLUMN billing_interval")
    op.execute(
        "ALTER TABLE subscriptions.billing_accounts DROP COLUMN pending_interval, "
        "DROP COLUMN billing_interval"
    )
