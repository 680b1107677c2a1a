"""checkout schema: billing customers, checkout sessions, the tenant-plan projection.

Revision ID: checkout_0002
Revises: checkout_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "checkout_0002"
down_revision: str | None = "checkout_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE checkout.billing_customers (
            tenant_id           text PRIMARY KEY,
            stripe_customer_id  text NOT NULL UNIQUE,
            created_at          timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        """
        CREATE TABLE checkout.checkout_sessions (
            session_id          text PRIMARY KEY,
            tenant_id           text NOT NULL,
            plan                text NOT NULL,
            trial               boolean NOT NULL DEFAULT false,
            status              text NOT NULL DEFAULT 'open',
            payment_status      text,
            url                 text NOT NULL,
            stripe_customer_id  text NOT NULL,
            idempotency_key     text,
            created_at          timestamptz NOT NULL DEFAULT now(),
            completed_at        timestamptz,
            CONSTRAINT checkout_sessions_idempotency_key_uq UNIQUE (tenant_id, idempotency_key)
        )"""
    )
    op.execute(
        "CREATE INDEX checkout_sessions_tenant_plan_idx "
        "ON checkout.checkout_sessions (tenant_id, plan, created_at DESC)"
    )
    op.execute(
        """
        CREATE TABLE checkout.tenant_plans (
            tenant_id   text PRIMARY KEY,
            plan        text NOT NULL,
            status      text NOT NULL,
            as_of       timestamptz NOT NULL,
            updated_at  timestamptz NOT NULL DEFAULT now()
        )"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS checkout.tenant_plans")
    op.execute("DROP TABLE IF EXISTS checkout.checkout_sessions")
    op.execute("DROP TABLE IF EXISTS checkout.billing_customers")
