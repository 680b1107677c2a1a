"""webhooks schema: outbox and inbox tables.

Literal SQL (copied from billing_platform.messaging.outbox_schema as it was at this
revision): this revision must not change when live code does.

Revision ID: webhooks_0001
Revises:
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "webhooks_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE webhooks.outbox (
            id           bigserial PRIMARY KEY,
            message_id   text NOT NULL UNIQUE,
            routing_key  text NOT NULL,
            body         jsonb NOT NULL,
            tenant_id    text,
            created_at   timestamptz NOT NULL DEFAULT now(),
            sent_at      timestamptz,
            attempts     integer NOT NULL DEFAULT 0,
            last_error   text
        )"""
    )
    op.execute("CREATE INDEX outbox_unsent_idx ON webhooks.outbox (id) WHERE sent_at IS NULL")
    op.execute(
        """
        CREATE TABLE webhooks.inbox (
            message_id   text PRIMARY KEY,
            routing_key  text NOT NULL,
            received_at  timestamptz NOT NULL DEFAULT now()
        )"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS webhooks.inbox")
    op.execute("DROP TABLE IF EXISTS webhooks.outbox")
