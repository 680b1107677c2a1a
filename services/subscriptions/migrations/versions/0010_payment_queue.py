"""subscriptions schema: the failed-payment queue (attempts, last email, operators' actions).

``failed_attempt_count``: Stripe's ``attempt_count`` of the failed invoice.
``last_notifications``: the newest ``notification.sent`` per tenant (the queue's
"last email"). ``operator_actions``: the audit of every retry-payment and remind
(who, when, what, why, on which tenant, and how it ended). A partial index keeps the
queue's listing off the rest of the tenants.
Literal SQL: this revision must not change when live code does.

Revision ID: subscriptions_0010
Revises: subscriptions_0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0010"
down_revision: str | None = "subscriptions_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE subscriptions.billing_accounts ADD COLUMN failed_attempt_count integer"
    )
    op.execute(
        "CREATE INDEX billing_accounts_past_due_idx ON subscriptions.billing_accounts "
        "((COALESCE(failed_amount_due, -1)) DESC, tenant_id) "
        "WHERE status IN ('past_due', 'unpaid', 'incomplete', 'paused')"
    )
    op.execute(
        """
        CREATE TABLE subscriptions.last_notifications (
            tenant_id   text PRIMARY KEY,
            kind        text NOT NULL,
            subject_id  text,
            recipient   text,
            status      text NOT NULL,
            sent_at     timestamptz NOT NULL,
            message_id  text NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE subscriptions.operator_actions (
            id                bigserial PRIMARY KEY,
            tenant_id         text NOT NULL,
            action            text NOT NULL,
            operator_sub      text NOT NULL,
            requested_at      timestamptz NOT NULL,
            outcome           text NOT NULL,
            detail            text,
            stripe_invoice_id text,
            request_id        text NOT NULL,
            reason            text,
            settled_at        timestamptz
        )
        """
    )
    op.execute(
        "CREATE INDEX operator_actions_tenant_idx ON subscriptions.operator_actions "
        "(tenant_id, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE subscriptions.operator_actions")
    op.execute("DROP TABLE subscriptions.last_notifications")
    op.execute("DROP INDEX subscriptions.billing_accounts_past_due_idx")
    op.execute("ALTER TABLE subscriptions.billing_accounts DROP COLUMN failed_attempt_count")
