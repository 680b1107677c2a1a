"""analytics schema: the MRR-movement ledger, each tenant's revenue state, activity and
payment failures.

- ``tenant_revenue``: each tenant's subscription as last applied (the ordering mark of
  the Stripe event behind it), its MRR (minor units a month) and whether it ever paid.
- ``mrr_movements``: one row per change of a tenant's MRR (or an opening balance), at
  the Stripe event's time; unique per (tenant, Stripe event, currency, kind).
- ``activity``: dated facts counted per day (trial started / converted / lost,
  checkout created / completed, cancellation scheduled, portal session, invoice paid,
  payment attempt failed), unique per (kind, key).
- ``payment_failures``: one row per invoice whose payment failed, with its recovery.

Revision ID: analytics_0002
Revises: analytics_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "analytics_0002"
down_revision: str | None = "analytics_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE analytics.tenant_revenue (
            tenant_id            text PRIMARY KEY,
            subscription_id      text NOT NULL,
            status               text NOT NULL,
            plan                 text NOT NULL,
            currency             text,
            amount               bigint,
            billing_interval     text NOT NULL DEFAULT 'month',
            mrr                  bigint NOT NULL,
            cancel_at_period_end boolean NOT NULL DEFAULT false,
            paid_before          boolean NOT NULL DEFAULT false,
            as_of                timestamptz NOT NULL,
            as_of_event          text NOT NULL,
            updated_at           timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        """
        CREATE TABLE analytics.mrr_movements (
            id              bigserial PRIMARY KEY,
            tenant_id       text NOT NULL,
            subscription_id text NOT NULL,
            currency        text NOT NULL,
            kind            text NOT NULL,
            mrr_before      bigint NOT NULL,
            mrr_after       bigint NOT NULL,
            plan_before     text,
            plan_after      text,
            occurred_at     timestamptz NOT NULL,
            event_id        text NOT NULL,
            recorded_at     timestamptz NOT NULL DEFAULT now(),
            UNIQUE (tenant_id, event_id, currency, kind)
        )"""
    )
    op.execute(
        "CREATE INDEX mrr_movements_time_idx ON analytics.mrr_movements (occurred_at) "
        "INCLUDE (currency, kind, mrr_before, mrr_after, plan_before, plan_after)"
    )
    op.execute(
        """
        CREATE TABLE analytics.activity (
            kind        text NOT NULL,
            key         text NOT NULL,
            tenant_id   text NOT NULL,
            currency    text,
            amount      bigint,
            occurred_at timestamptz NOT NULL,
            PRIMARY KEY (kind, key)
        )"""
    )
    op.execute("CREATE INDEX activity_time_idx ON analytics.activity (occurred_at)")
    op.execute(
        """
        CREATE TABLE analytics.payment_failures (
            invoice_id       text PRIMARY KEY,
            tenant_id        text NOT NULL,
            currency         text NOT NULL,
            amount_due       bigint NOT NULL,
            failed_at        timestamptz NOT NULL,
            recovered_at     timestamptz,
            recovered_amount bigint,
            closed_at        timestamptz
        )"""
    )
    op.execute("CREATE INDEX payment_failures_time_idx ON analytics.payment_failures (failed_at)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS analytics.payment_failures")
    op.execute("DROP TABLE IF EXISTS analytics.activity")
    op.execute("DROP TABLE IF EXISTS analytics.mrr_movements")
    op.execute("DROP TABLE IF EXISTS analytics.tenant_revenue")
