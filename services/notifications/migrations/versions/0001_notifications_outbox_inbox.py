"""notifications schema: outbox and inbox tables (with the relay's poison-row columns
and the retention indexes the other services added in later revisions).

Literal SQL: this revision must not change when live code does.

Revision ID: notifications_0001
Revises:
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "notifications_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE notifications.outbox (
            id              bigserial PRIMARY KEY,
            message_id      text NOT NULL UNIQUE,
            routing_key     text NOT NULL,
            body            jsonb NOT NULL,
            tenant_id       text,
            created_at      timestamptz NOT NULL DEFAULT now(),
            sent_at         timestamptz,
            attempts        integer NOT NULL DEFAULT 0,
            last_error      text,
            rejections      integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz,
            parked_at       timestamptz
        )"""
    )
    op.execute("CREATE INDEX outbox_unsent_idx ON notifications.outbox (id) WHERE sent_at IS NULL")
    op.execute(
        "CREATE INDEX outbox_sent_at_idx ON notifications.outbox (sent_at) "
        "WHERE sent_at IS NOT NULL"
    )
    op.execute(
        """
        CREATE TABLE notifications.inbox (
            message_id   text PRIMARY KEY,
            routing_key  text NOT NULL,
            received_at  timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute("CREATE INDEX inbox_received_at_idx ON notifications.inbox (received_at)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS notifications.inbox")
    op.execute("DROP TABLE IF EXISTS notifications.outbox")
