"""subscriptions schema: the attempts of a failed invoice (the banner's timeline).

``failed_attempts``: one JSON object per attempt of the failed invoice we heard of,
oldest first: ``{"number", "at", "outcome", "decline_code", "card_brand",
"card_last4"}`` (the latest one is the banner's reason and card). Cleared with the
failure.
Literal SQL: this revision must not change when live code does.

Revision ID: subscriptions_0014
Revises: subscriptions_0013
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0014"
down_revision: str | None = "subscriptions_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE subscriptions.billing_accounts "
        "ADD COLUMN failed_attempts jsonb NOT NULL DEFAULT '[]'::jsonb"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE subscriptions.billing_accounts DROP COLUMN failed_attempts")
