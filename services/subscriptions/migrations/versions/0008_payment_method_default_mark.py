"""subscriptions schema: the watermark of the customer.updated event that last set a
tenant's default payment method (an older event never brings an old default back).

Revision ID: subscriptions_0008
Revises: subscriptions_0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0008"
down_revision: str | None = "subscriptions_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE subscriptions.payment_method_defaults "
        "ADD COLUMN last_applied_at timestamptz, ADD COLUMN last_event_id text"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE subscriptions.payment_method_defaults "
        "DROP COLUMN IF EXISTS last_applied_at, DROP COLUMN IF EXISTS last_event_id"
    )
