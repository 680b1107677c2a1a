"""checkout schema: poison outbox rows wait and get parked; retention indexes.

The relay (billing_platform.messaging.relay) backs off a row the broker refuses
(``rejections``, ``next_attempt_at``) and parks it after too many (``parked_at``);
``billing prune`` deletes sent outbox rows and old inbox rows by these indexes.
Literal SQL: this revision must not change when live code does.

Revision ID: checkout_0005
Revises: checkout_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "checkout_0005"
down_revision: str | None = "checkout_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE checkout.outbox "
        "ADD COLUMN rejections integer NOT NULL DEFAULT 0, "
        "ADD COLUMN next_attempt_at timestamptz, "
        "ADD COLUMN parked_at timestamptz"
    )
    op.execute(
        "CREATE INDEX outbox_sent_at_idx ON checkout.outbox (sent_at) WHERE sent_at IS NOT NULL"
    )
    op.execute("CREATE INDEX inbox_received_at_idx ON checkout.inbox (received_at)")


def downgrade() -> None:
    op.execute("DROP INDEX checkout.inbox_received_at_idx")
    op.execute("DROP INDEX checkout.outbox_sent_at_idx")
    op.execute(
        "ALTER TABLE checkout.outbox DROP COLUMN parked_at, DROP COLUMN next_attempt_at, "
        "DROP COLUMN rejections"
    )
