"""subscriptions schema: each tenant's Stripe budget (billing_platform.stripe_budget).

Literal SQL (copied from billing_platform.stripe_budget as it was at this revision):
this revision must not change when live code does.

Revision ID: subscriptions_0005
Revises: subscriptions_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0005"
down_revision: str | None = "subscriptions_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE subscriptions.stripe_budget (
            tenant_id   text NOT NULL,
            bucket      text NOT NULL,
            tokens      double precision NOT NULL,
            allowed     boolean NOT NULL,
            updated_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, bucket)
        )"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS subscriptions.stripe_budget")
