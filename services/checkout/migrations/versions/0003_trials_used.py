"""checkout schema: the tenants (and Stripe customers) that have had their one trial.

Backfilled from the completed trial checkout sessions already stored.

Revision ID: checkout_0003
Revises: checkout_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "checkout_0003"
down_revision: str | None = "checkout_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE checkout.trials_used (
            tenant_id           text PRIMARY KEY,
            stripe_customer_id  text,
            evidence            text NOT NULL,
            used_at             timestamptz NOT NULL
        )"""
    )
    op.execute("CREATE INDEX trials_used_customer_idx ON checkout.trials_used (stripe_customer_id)")
    op.execute(
        """
        INSERT INTO checkout.trials_used (tenant_id, stripe_customer_id, evidence, used_at)
        SELECT DISTINCT ON (tenant_id) tenant_id, stripe_customer_id,
               'checkout ' || session_id, coalesce(completed_at, created_at)
        FROM checkout.checkout_sessions
        WHERE trial AND status = 'complete'
        ORDER BY tenant_id, completed_at
        ON CONFLICT (tenant_id) DO NOTHING"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS checkout.trials_used")
