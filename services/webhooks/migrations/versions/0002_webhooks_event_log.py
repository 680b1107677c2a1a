"""webhooks schema: the Stripe event log and the customer -> tenant map.

Revision ID: webhooks_0002
Revises: webhooks_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "webhooks_0002"
down_revision: str | None = "webhooks_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE webhooks.stripe_webhook_events_log (
            id                bigserial PRIMARY KEY,
            event_id          text NOT NULL UNIQUE,
            event_type        text NOT NULL,
            tenant_id         text,
            status            text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'retrying', 'processed', 'failed', 'parked')),
            note              text,
            error_message     text,
            retry_count       integer NOT NULL DEFAULT 0,
            next_attempt_at   timestamptz,
            api_version       text,
            livemode          boolean NOT NULL DEFAULT false,
            stripe_created_at timestamptz NOT NULL,
            payload           jsonb NOT NULL,
            received_at       timestamptz NOT NULL DEFAULT now(),
            processed_at      timestamptz
        )
        """
    )
    op.execute(
        "CREATE INDEX stripe_webhook_events_due_idx "
        "ON webhooks.stripe_webhook_events_log (next_attempt_at) "
        "WHERE status IN ('pending', 'retrying')"
    )
    op.execute(
        "CREATE INDEX stripe_webhook_events_status_idx "
        "ON webhooks.stripe_webhook_events_log (status, id)"
    )
    op.execute(
        "CREATE INDEX stripe_webhook_events_type_idx "
        "ON webhooks.stripe_webhook_events_log (event_type, id)"
    )
    op.execute(
        """
        CREATE TABLE webhooks.customer_tenants (
            stripe_customer_id text PRIMARY KEY,
            tenant_id          text NOT NULL,
            updated_at         timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE webhooks.customer_tenants")
    op.execute("DROP TABLE webhooks.stripe_webhook_events_log")
