"""notifications schema: recipients, tenant state, cards, the send log, preferences and
used unsubscribe tokens.

The send log's ``dedupe_key`` (kind|tenant|subject|day) is unique: one mail per kind,
tenant, subject and day, however often its event arrives.

Revision ID: notifications_0002
Revises: notifications_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "notifications_0002"
down_revision: str | None = "notifications_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE notifications.recipients (
            tenant_id                 text PRIMARY KEY,
            stripe_customer_id        text NOT NULL,
            email                     text,
            name                      text,
            locales                   text[] NOT NULL DEFAULT '{}',
            default_payment_method_id text,
            as_of                     timestamptz NOT NULL,
            updated_at                timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        """
        CREATE TABLE notifications.tenant_state (
            tenant_id             text PRIMARY KEY,
            status                text,
            trial_end             timestamptz,
            cancel_at_period_end  boolean NOT NULL DEFAULT false,
            open_invoice_id       text,
            open_failure          jsonb,
            subscription_as_of    timestamptz,
            invoice_as_of         timestamptz,
            updated_at            timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        """
        CREATE TABLE notifications.cards (
            tenant_id          text NOT NULL,
            payment_method_id  text NOT NULL,
            brand              text,
            last4              text,
            exp_month          integer,
            exp_year           integer,
            updated_at         timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, payment_method_id)
        )"""
    )
    op.execute(
        """
        CREATE TABLE notifications.sends (
            id               bigserial PRIMARY KEY,
            dedupe_key       text NOT NULL UNIQUE,
            kind             text NOT NULL,
            tenant_id        text NOT NULL,
            subject_id       text NOT NULL,
            day              date NOT NULL,
            facts            jsonb NOT NULL,
            status           text NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
            to_address       text,
            attempts         integer NOT NULL DEFAULT 0,
            next_attempt_at  timestamptz NOT NULL,
            last_error       text,
            created_at       timestamptz NOT NULL,
            finished_at      timestamptz
        )"""
    )
    op.execute(
        "CREATE INDEX sends_due_idx ON notifications.sends (next_attempt_at) "
        "WHERE status = 'pending'"
    )
    op.execute("CREATE INDEX sends_tenant_idx ON notifications.sends (tenant_id, id DESC)")
    op.execute("CREATE INDEX sends_subject_idx ON notifications.sends (kind, tenant_id, subject_id)")
    op.execute(
        """
        CREATE TABLE notifications.preferences (
            tenant_id   text NOT NULL,
            kind        text NOT NULL,
            enabled     boolean NOT NULL,
            updated_by  text NOT NULL,
            updated_at  timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, kind)
        )"""
    )
    op.execute(
        """
        CREATE TABLE notifications.unsubscribe_tokens_used (
            token_id   text PRIMARY KEY,
            tenant_id  text NOT NULL,
            used_at    timestamptz NOT NULL
        )"""
    )


def downgrade() -> None:
    for table in (
        "unsubscribe_tokens_used",
        "preferences",
        "sends",
        "cards",
        "tenant_state",
        "recipients",
    ):
        op.execute(f"DROP TABLE IF EXISTS notifications.{table}")
