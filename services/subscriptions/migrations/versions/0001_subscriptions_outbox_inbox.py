"""subscriptions schema: outbox and inbox tables.

Revision ID: subscriptions_0001
Revises:
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op
from billing_platform.messaging.outbox_schema import (
    create_outbox_and_inbox_sql,
    drop_outbox_and_inbox_sql,
)

revision: str = "subscriptions_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in create_outbox_and_inbox_sql("subscriptions"):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_outbox_and_inbox_sql("subscriptions"):
        op.execute(statement)
