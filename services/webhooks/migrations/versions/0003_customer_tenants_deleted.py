"""webhooks schema: a deleted Stripe customer's map entry is retired, never resolved again.

Revision ID: webhooks_0003
Revises: webhooks_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "webhooks_0003"
down_revision: str | None = "webhooks_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # customer.deleted sets it; tenant_of() skips such rows and link() never revives them
    # (Stripe never reuses a customer id, and events about it may still arrive late).
    op.execute("ALTER TABLE webhooks.customer_tenants ADD COLUMN deleted_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE webhooks.customer_tenants DROP COLUMN deleted_at")
