"""subscriptions schema: trials (issue 20). Whether the tenant's subscription has a payment
method, and the audit of operators' trial extensions (who, when, why, old and new end).

Revision ID: subscriptions_0009
Revises: subscriptions_0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0009"
down_revision: str | None = "subscriptions_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE subscriptions.billing_accounts "
        "ADD COLUMN has_payment_method boolean NOT NULL DEFAULT false"
    )
    op.execute(
        """
        CREATE TABLE subscriptions.trial_extensions (
            id                      bigserial PRIMARY KEY,
            tenant_id               text NOT NULL,
            stripe_subscription_id  text NOT NULL,
            operator_sub            text NOT NULL,
            reason                  text NOT NULL,
            extend_days             integer NOT NULL CHECK (extend_days BETWEEN 1 AND 30),
            previous_trial_end      timestamptz NOT NULL,
            new_trial_end           timestamptz NOT NULL,
            status                  text NOT NULL DEFAULT 'pending'
                                    CHECK (status IN ('pending', 'applied')),
            created_at              timestamptz NOT NULL DEFAULT now(),
            applied_at              timestamptz
        )"""
    )
    op.execute(
        "CREATE INDEX trial_extensions_tenant_idx "
        "ON subscriptions.trial_extensions (tenant_id, created_at)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS subscriptions.trial_extensions")
    op.execute("ALTER TABLE subscriptions.billing_accounts DROP COLUMN IF EXISTS has_payment_method")
