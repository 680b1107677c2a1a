"""subscriptions schema: the billing_accounts projection.

Revision ID: subscriptions_0002
Revises: subscriptions_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0002"
down_revision: str | None = "subscriptions_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE subscriptions.billing_accounts (
            tenant_id                 text PRIMARY KEY,
            stripe_customer_id        text,
            stripe_subscription_id    text,
            plan                      text NOT NULL DEFAULT 'free',
            status                    text NOT NULL DEFAULT 'active',
            cancel_at_period_end      boolean NOT NULL DEFAULT false,
            current_period_end        timestamptz,
            trial_end                 timestamptz,
            failed_amount_due         bigint,
            failed_currency           text,
            failed_hosted_invoice_url text,
            failed_next_attempt       timestamptz,
            failed_invoice_id         text,
            pending_plan              text,
            pending_plan_effective_at timestamptz,
            last_applied              jsonb NOT NULL DEFAULT '{}'::jsonb,
            created_at                timestamptz NOT NULL DEFAULT now(),
            updated_at                timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT billing_accounts_failure_whole CHECK (
                (failed_amount_due IS NULL) = (failed_currency IS NULL)
            )
        )
        """
    )
    op.execute(
        "CREATE INDEX billing_accounts_customer_idx "
        "ON subscriptions.billing_accounts (stripe_customer_id) "
        "WHERE stripe_customer_id IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX billing_accounts_subscription_idx "
        "ON subscriptions.billing_accounts (stripe_subscription_id) "
        "WHERE stripe_subscription_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS subscriptions.billing_accounts")
