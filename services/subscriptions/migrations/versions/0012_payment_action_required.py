"""subscriptions schema: a failed payment that waits for the customer (3-D Secure).

``failed_action_required``: Stripe sent ``invoice.payment_action_required`` for the
failed invoice's latest attempt: the pages offer "Confirm payment" (the hosted invoice
page) instead of "update your card".
Literal SQL: this revision must not change when live code does.

Revision ID: subscriptions_0012
Revises: subscriptions_0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0012"
down_revision: str | None = "subscriptions_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE subscriptions.billing_accounts "
        "ADD COLUMN failed_action_required boolean NOT NULL DEFAULT false"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE subscriptions.billing_accounts DROP COLUMN failed_action_required")
