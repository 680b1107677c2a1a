"""subscriptions schema: why the tenant's last subscription ended.

``ended_reason`` (payment_failed, cancellation_requested, canceled) and ``ended_plan``
(the plan it had): the pages explain an automatic cancellation in plain words.
Literal SQL: this revision must not change when live code does.

Revision ID: subscriptions_0013
Revises: subscriptions_0012
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0013"
down_revision: str | None = "subscriptions_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE subscriptions.billing_accounts "
        "ADD COLUMN ended_reason text, ADD COLUMN ended_plan text"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE subscriptions.billing_accounts DROP COLUMN ended_reason, DROP COLUMN ended_plan"
    )
