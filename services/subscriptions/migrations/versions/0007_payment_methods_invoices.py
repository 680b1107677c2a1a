"""subscriptions schema: the tenant's payment methods, default method and invoice history
(customer self-service projections, fed by billing events, repaired by reconcile).

Revision ID: subscriptions_0007
Revises: subscriptions_0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "subscriptions_0007"
down_revision: str | None = "subscriptions_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE subscriptions.payment_methods (
            tenant_id           text NOT NULL,
            payment_method_id   text NOT NULL,
            stripe_customer_id  text NOT NULL,
            brand               text,
            last4               text,
            exp_month           integer,
            exp_year            integer,
            method_created      timestamptz,
            detached            boolean NOT NULL DEFAULT false,
            last_applied_at     timestamptz,
            last_event_id       text,
            updated_at          timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, payment_method_id)
        )"""
    )
    op.execute(
        """
        CREATE TABLE subscriptions.payment_method_defaults (
            tenant_id                  text PRIMARY KEY,
            stripe_customer_id         text,
            default_payment_method_id  text,
            updated_at                 timestamptz NOT NULL DEFAULT now()
        )"""
    )
    op.execute(
        """
        CREATE TABLE subscriptions.invoices (
            tenant_id               text NOT NULL,
            invoice_id              text NOT NULL,
            stripe_customer_id      text NOT NULL,
            stripe_subscription_id  text,
            number                  text,
            status                  text,
            total                   bigint,
            amount_due              bigint,
            currency                text NOT NULL,
            period_start            timestamptz,
            period_end              timestamptz,
            invoice_created         timestamptz,
            hosted_invoice_url      text,
            invoice_pdf             text,
            payment_method_id       text,
            last_applied_at         timestamptz,
            last_event_id           text,
            updated_at              timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, invoice_id)
        )"""
    )
    op.execute(
        "CREATE INDEX invoices_history_idx ON subscriptions.invoices "
        "(tenant_id, invoice_created DESC NULLS LAST, invoice_id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS subscriptions.invoices")
    op.execute("DROP TABLE IF EXISTS subscriptions.payment_method_defaults")
    op.execute("DROP TABLE IF EXISTS subscriptions.payment_methods")
